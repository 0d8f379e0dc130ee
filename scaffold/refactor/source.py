"""The script's text and tree, and the two tools everything else is built on.

- Text is never regenerated from the tree (that would lose comments and layout): a statement is cut out of
  the original source by its line range, and changes are edits at AST positions inside that slice.
- Names are followed in evaluation order (an assignment's value before its target), so ``h = f(h)`` reads
  ``h`` before it writes it: that is how state carried across batches is found.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import builtins
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.refactor.errors import ScriptNotFoundError, ScriptSyntaxError

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__"}


@dataclass
class Script:
    path: Path
    text: str
    lines: list[str]  # with their line endings
    tree: ast.Module
    line_map: list[int] | None = None  # the script file's line of each line of ``text`` (None: the same numbers)
    unrolled: list[tuple[int, str, list]] = field(default_factory=list)  # phase loops unrolled: (line, name, values)

    def source_line(self, lineno: int) -> int:
        """The line of the script file that line ``lineno`` of ``text`` came from (they differ after a phase loop was
        unrolled, see phases.py): what REFACTOR.md and the messages show."""
        if self.line_map is None or not 1 <= lineno <= len(self.line_map):
            return lineno
        return self.line_map[lineno - 1]

    def offset(self, lineno: int, col: int) -> int:
        """Character offset in ``text`` of an AST position (``col`` counts UTF-8 bytes)."""
        line = self.lines[lineno - 1]
        return self._starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def __post_init__(self) -> None:
        self._starts, pos = [], 0
        for line in self.lines:
            self._starts.append(pos)
            pos += len(line)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def after_semicolon(self, stmt: ast.stmt) -> bool:
        """The statement follows another on its first line (``a = 1; b = 2``: true for ``b = 2``)."""
        start = self.offset(stmt.lineno, stmt.col_offset)
        return bool(self.text[self._starts[stmt.lineno - 1]:start].strip())

    def before_semicolon(self, stmt: ast.stmt) -> int | None:
        """Where the next statement on the statement's last line starts (``a = 1; b = 2``: ``b`` for ``a = 1``), else None."""
        end = self.offset(stmt.end_lineno, stmt.end_col_offset)
        line_end = self._starts[stmt.end_lineno - 1] + len(self.lines[stmt.end_lineno - 1].rstrip("\r\n"))
        rest = self.text[end:line_end]
        if not rest.lstrip().startswith(";"):
            return None
        after = rest.lstrip()[1:]
        if not after.strip() or after.strip().startswith("#"):  # `a = 1;` (a trailing `;`)
            return None
        return line_end - len(after.lstrip())

    def lines_span(self, stmt: ast.stmt) -> tuple[int, int]:
        """Character offsets of the statement as whole lines (comments above it included), without its last newline;
        a statement sharing a line with others through `;` starts and ends where it does on that line."""
        a = self.offset(stmt.lineno, stmt.col_offset) if self.after_semicolon(stmt) else self._starts[self.first_line(stmt) - 1]
        if self.before_semicolon(stmt) is not None:
            return a, self.offset(stmt.end_lineno, stmt.end_col_offset)
        return a, self._starts[stmt.end_lineno - 1] + len(self.lines[stmt.end_lineno - 1].rstrip("\r\n"))

    def first_line(self, stmt: ast.stmt) -> int:
        """The statement's first line, with its decorators and the comment lines directly above it (not for a statement
        after a `;`: the comments above its line belong to the first statement there)."""
        if self.after_semicolon(stmt):
            return stmt.lineno
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        while first > 1 and self.lines[first - 2].strip().startswith("#"):
            first -= 1
        return first


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _decode(path: Path) -> str:
    """The script's text in the encoding it declares (PEP 263: a coding line in its first two lines), else UTF-8.

    The declaration itself is replaced by a plain comment (same line count): generated files are UTF-8, and a kept
    ``coding: latin-1`` line would make Python misread them.
    """
    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:
        if "unknown encoding" in str(err):  # declared, but not one Python knows
            raise ScriptSyntaxError(f"{path}: {err}; declare an encoding Python knows, or save it as UTF-8") from None
        encoding = "utf-8"  # undeclared and not UTF-8: the decode below says so
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ScriptSyntaxError(
            f"{path} is not a Python script (not {encoding} text: {err.reason} at byte {err.start}); save it as UTF-8 "
            "or declare its encoding on its first line, e.g. '# -*- coding: latin-1 -*-'"
        ) from None
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[:2]):
        if _CODING.match(line):
            lines[i] = "# (this script declared its encoding; it is read and written as UTF-8)" + line[len(line.rstrip("\r\n")):]
    return "".join(lines)


def load_script(path: str | Path) -> Script:
    """Read and parse ``path``; a missing file or a syntax error is a clear error naming the place."""
    path = Path(path)
    if not path.exists():
        raise ScriptNotFoundError(f"{path}: no such file; give the path of a Python training script")
    if not path.is_file():
        raise ScriptNotFoundError(f"{path} is not a file; give the path of a Python training script")
    text = _decode(path)
    if "\x00" in text:
        raise ScriptSyntaxError(f"{path} is not a Python script (it contains NUL bytes)")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as err:
        where = f"line {err.lineno}, column {err.offset}" if err.lineno else "an unknown place"
        shown = f": {err.text.strip()}" if err.text and err.text.strip() else ""
        raise ScriptSyntaxError(f"{path} does not parse as Python: {err.msg} at {where}{shown}") from None
    return Script(path, text, text.splitlines(keepends=True) or [""], tree)


# ---------------------------------------------------------------------------------------------- names
class _Events(ast.NodeVisitor):
    """(name, "load"|"store") in the order Python evaluates them; nested functions count as loads of their free names."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, ast.AST]] = []

    def visit_Name(self, node: ast.Name) -> None:
        kind = "load" if isinstance(node.ctx, ast.Load) else "store"
        self.events.append((node.id, kind, node))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for t in node.targets:
            self.visit(t)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.events.append((node.target.id, "load", node.target))
        self.visit(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for s in node.body + node.orelse:
            self.visit(s)

    def _function(self, node) -> None:
        for d in node.decorator_list:
            self.visit(d)
        inner = _Events()
        for s in node.body:
            inner.visit(s)
        params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        local = {n for n, k, _ in inner.events if k == "store"} | params
        self.events.extend((n, k, x) for n, k, x in inner.events if k == "load" and n not in local)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.events.append((node.name, "store", node))

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for b in node.bases:
            self.visit(b)
        self.events.append((node.name, "store", node))

    def visit_Lambda(self, node: ast.Lambda) -> None:
        params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        inner = _Events()
        inner.visit(node.body)
        self.events.extend(e for e in inner.events if e[0] not in params)

    def _comprehension(self, node) -> None:
        inner = _Events()
        for gen in node.generators:
            inner.visit(gen)
        for field in ("elt", "key", "value"):
            if getattr(node, field, None) is not None:
                inner.visit(getattr(node, field))
        local = {n for n, k, _ in inner.events if k == "store"}
        self.events.extend(e for e in inner.events if e[1] == "load" and e[0] not in local)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Import(self, node) -> None:
        for a in node.names:
            self.events.append(((a.asname or a.name).split(".")[0], "store", node))

    visit_ImportFrom = visit_Import


def name_events(stmts: list[ast.AST]) -> list[tuple[str, str, ast.AST]]:
    v = _Events()
    for s in stmts:
        v.visit(s)
    return v.events


def free_names(stmts: list[ast.AST]) -> list[str]:
    """Names read before they are written in ``stmts`` (first-use order). A name one branch of an ``if`` binds is not
    bound in the other (``if better: best, bad = v, 0`` / ``else: bad += 1`` reads ``bad``); after the ``if`` it counts
    as bound, and a loop's body counts as run."""
    free: dict[str, None] = {}
    _free_walk(list(stmts), set(), free)
    return list(free)


def _free_walk(stmts: list[ast.AST], bound: set[str], free: dict[str, None]) -> None:
    def events(nodes: list[ast.AST]) -> None:
        for name, kind, _ in name_events(nodes):
            if kind == "load" and name not in bound:
                free.setdefault(name)
            elif kind == "store":
                bound.add(name)

    for s in stmts:
        if isinstance(s, ast.If):
            events([s.test])
            branches = []
            for block in (s.body, s.orelse):
                inner = set(bound)
                _free_walk(block, inner, free)
                branches.append(inner)
            bound |= branches[0] | branches[1]
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            events([s.iter, s.target])
            _free_walk(s.body + s.orelse, bound, free)
        elif isinstance(s, ast.While):
            events([s.test])
            _free_walk(s.body + s.orelse, bound, free)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            events([i.context_expr for i in s.items] + [i.optional_vars for i in s.items if i.optional_vars is not None])
            _free_walk(s.body, bound, free)
        else:
            events([s])


def stored_names(stmts: list[ast.AST]) -> list[str]:
    out: list[str] = []
    for name, kind, _ in name_events(stmts):
        if kind == "store" and name not in out:
            out.append(name)
    return out


def loaded_names(stmts: list[ast.AST]) -> set[str]:
    return {n for n, k, _ in name_events(stmts) if k == "load"}


MUTATING_METHODS = frozenset({"update", "append", "extend", "insert", "setdefault", "pop", "popitem", "remove", "clear",
                              "add", "discard", "sort", "reverse", "__setitem__", "__delitem__"})


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def mutated_names(stmt: ast.AST) -> set[str]:
    """Names whose object the statement changes in place without binding them: ``kw.update(...)``, ``kw.append(...)``,
    ``kw["shuffle"] = True``, ``ds.transform = t``, ``kw[k] += 1``, ``del kw[k]`` (nested functions' bodies not counted)."""
    out: set[str] = set()
    nodes = [stmt]
    while nodes:
        n = nodes.pop()
        if n is not stmt and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        nodes.extend(ast.iter_child_nodes(n))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in MUTATING_METHODS:
            root = _root_name(n.func.value)
        elif isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target]
            for t in targets:
                for el in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]):
                    if isinstance(el, (ast.Attribute, ast.Subscript)):
                        root = _root_name(el)
                        if root:
                            out.add(root)
            continue
        else:
            continue
        if root:
            out.add(root)
    return out


def call_leaf(call: ast.Call) -> str:
    """The called name's last part: ``step`` for ``opt.step()``, ``print`` for ``print(x)``, ``''`` for anything else."""
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def dotted(node: ast.AST) -> str:
    """``torch.optim.SGD`` for an attribute chain, ``''`` for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def call_name(node: ast.AST) -> str:
    """The dotted callee of a call (``optim.SGD``), or ``''``."""
    return dotted(node.func) if isinstance(node, ast.Call) else ""


def calls_in(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def last_thing_done(body: list[ast.stmt], target: ast.stmt) -> bool:
    """Whether ``target`` is the last statement ``body`` runs on its path: the last statement of its block, in blocks
    (if/else, with) that are each the last of theirs."""
    if not body:
        return False
    last = body[-1]
    if last is target:
        return True
    if isinstance(last, ast.If):
        return last_thing_done(last.body, target) or last_thing_done(last.orelse, target)
    if isinstance(last, ast.With):
        return last_thing_done(last.body, target)
    return False
