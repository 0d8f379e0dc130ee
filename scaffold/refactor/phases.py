"""``for phase in ['train', 'val']:`` around a batch loop, unrolled before analysis into one copy of its body per phase.

The transfer-learning tutorial's layout trains in one pass and evaluates in the other (``if phase == 'train':``
decides). Each copy has ``phase`` replaced by its constant, the comparisons on it folded, the ``if``s on them reduced
to the branch taken and ``torch.set_grad_enabled(<constant>)`` dropped (True) or made ``torch.no_grad()`` (False):
a training loop then an evaluation loop in the epoch loop, the layout the rest of the refactor knows. The copies
are written with ``ast.unparse`` (the loop's comments are lost); ``Script.source_line`` maps their lines back to the
script's for REFACTOR.md.
"""

from __future__ import annotations

import ast
import copy
import operator

from scaffold.refactor.source import Script

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


def phase_values(node: ast.AST) -> list[str] | None:
    """The phases of ``for NAME in ['train', 'val']:`` (a list or tuple of string constants), else None."""
    if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, (ast.List, ast.Tuple)) \
            and node.iter.elts and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.iter.elts):
        return [e.value for e in node.iter.elts]
    return None


def _phase_loop(node: ast.AST) -> bool:
    """A phase loop this module unrolls: two phases or more, no ``else:``, a loop inside that reads the phase."""
    values = phase_values(node)
    if values is None or len(values) < 2 or node.orelse:
        return False
    name = node.target.id
    return any(isinstance(inner, ast.For) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(inner.iter))
               for s in node.body for inner in ast.walk(s))


def _const(node: ast.AST):
    """(True, value) for a constant, or a list/tuple/set of constants."""
    if isinstance(node, ast.Constant):
        return True, node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and all(isinstance(e, ast.Constant) for e in node.elts):
        return True, [e.value for e in node.elts]
    return False, None


class _Specialise(ast.NodeTransformer):
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node):  # noqa: N802
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(self.value), node)
        return node

    def visit_Compare(self, node):  # noqa: N802
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            (ok_a, a), (ok_b, b) = _const(node.left), _const(node.comparators[0])
            if ok_a and ok_b:
                return ast.copy_location(ast.Constant(bool(_COMPARE[type(node.ops[0])](a, b))), node)
        return node

    def visit_UnaryOp(self, node):  # noqa: N802
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, bool):
            return ast.copy_location(ast.Constant(not node.operand.value), node)
        return node

    def visit_BoolOp(self, node):  # noqa: N802
        """`phase == 'val' and acc > best`: the phase's constant decides it, or leaves the other operands."""
        self.generic_visit(node)
        neutral = isinstance(node.op, ast.And)  # True in an `and`, False in an `or`: drops out
        rest = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, bool):
                if v.value is not neutral and not rest:
                    return ast.copy_location(ast.Constant(not neutral), node)  # `False and ...`: short-circuits
                if v.value is neutral:
                    continue
            rest.append(v)
        if not rest:
            return ast.copy_location(ast.Constant(neutral), node)
        if len(rest) == 1:
            return rest[0]
        node.values = rest
        return node

    def visit_JoinedStr(self, node):  # noqa: N802
        """`f"{phase} loss"` -> `f"train loss"`."""
        self.generic_visit(node)
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Constant) and isinstance(v.value.value, str) \
                    and v.conversion == -1 and v.format_spec is None:
                v = ast.Constant(v.value.value)
            if parts and isinstance(v, ast.Constant) and isinstance(parts[-1], ast.Constant):
                parts[-1] = ast.Constant(parts[-1].value + v.value)
            else:
                parts.append(v)
        if len(parts) == 1 and isinstance(parts[0], ast.Constant):
            return ast.copy_location(parts[0], node)
        node.values = parts
        return node

    def visit_IfExp(self, node):  # noqa: N802
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and isinstance(node.test.value, bool):
            return node.body if node.test.value else node.orelse
        return node

    def visit_If(self, node):  # noqa: N802
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and isinstance(node.test.value, bool):
            return (node.body if node.test.value else node.orelse) or None
        return node

    def visit_With(self, node):  # noqa: N802
        self.generic_visit(node)
        items = []
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and isinstance(call.func, (ast.Attribute, ast.Name)) and \
                    getattr(call.func, "attr", getattr(call.func, "id", None)) == "set_grad_enabled" and \
                    len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, bool) \
                    and item.optional_vars is None:
                if call.args[0].value:
                    continue  # gradients on: as outside any `with`
                torch = call.func.value if isinstance(call.func, ast.Attribute) else ast.Name("torch", ast.Load())
                no_grad = ast.Call(ast.Attribute(copy.deepcopy(torch), "no_grad", ast.Load()), [], [])
                item = ast.withitem(ast.copy_location(no_grad, call), None)
            items.append(item)
        if not items:
            return node.body
        node.items = items
        return node

    def body(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out = []
        for s in stmts:
            r = self.visit(copy.deepcopy(s))
            out += r if isinstance(r, list) else [] if r is None else [r]
        return out


def _fill_empty(tree: ast.AST) -> None:
    """A block left empty by the folding gets `pass`."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if field == "body" and isinstance(block, list) and not block and not isinstance(node, ast.Module):
                node.body = [ast.Pass(lineno=getattr(node, "lineno", 1), col_offset=0)]


def _line_map(text: str, module: ast.Module) -> dict[int, int]:
    """Line of the unparsed ``text`` -> the script line its statement came from (inner statements win)."""
    out = {}
    for new, old in zip(ast.walk(ast.parse(text)), ast.walk(module)):
        if isinstance(new, ast.stmt) and hasattr(old, "lineno"):
            for line in range(new.lineno, new.end_lineno + 1):
                out[line] = old.lineno
    return out


def unroll_phases(script: Script) -> Script:
    """``script`` with each phase loop unrolled (itself when it has none)."""
    loops = sorted((n for n in ast.walk(script.tree) if _phase_loop(n)), key=lambda n: n.lineno)
    if not loops:
        return script
    loop = loops[-1]  # the last first: the lines above it keep their numbers; nested ones come back in the next round
    name, values = loop.target.id, [e.value for e in loop.iter.elts]
    first, last = script.first_line(loop), loop.end_lineno
    pad = " " * loop.col_offset
    new_lines: list[str] = []
    mapping: list[int] = []
    old = script.source_line
    for value in values:
        spec = _Specialise(name, value)
        module = ast.Module(spec.body(loop.body), [])
        _fill_empty(module)
        if not module.body:
            continue
        text = ast.unparse(module)
        where = _line_map(text, module)
        new_lines.append(f"{pad}# `for {name} in {script.segment(loop.iter)}:` (line {old(loop.lineno)}), unrolled by scaffold "
                         f"refactor: {name} = {value!r}\n")
        mapping.append(loop.lineno)
        for i, line in enumerate(text.splitlines(), start=1):
            new_lines.append(pad + line + "\n")
            mapping.append(where.get(i, loop.lineno))
    lines = script.lines[:first - 1] + new_lines + script.lines[last:]
    line_map = [old(i) for i in range(1, first)] + [old(m) for m in mapping] + [old(i) for i in range(last + 1, len(script.lines) + 1)]
    text = "".join(lines)
    out = Script(script.path, text, lines, ast.parse(text, filename=str(script.path)), line_map,
                 script.unrolled + [(old(loop.lineno), name, values)])
    return unroll_phases(out)
