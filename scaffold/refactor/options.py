"""The script's argparse parser, rebuilt from its text without running any of the script.

Each ``add_argument`` / ``set_defaults`` call is read from the tree; its arguments are evaluated only when they are
literals, arithmetic on literals, or the script's own literal constants (``default=EPOCHS``). ``type=`` keeps
``int``/``float``/``str``/``bool``; anything else (a lambda, a function of the script) is left out and reported, as
is a default that needs the script to run (``default=os.environ["LR"]``): the option then defaults to None and the
config says so. The parser itself is argparse's own, so the script's arguments are checked the way the script would.
"""

from __future__ import annotations

import argparse
import ast
from typing import Any

from scaffold.refactor.source import dotted

_TYPES = {"int": int, "float": float, "str": str}


class NotStatic(ValueError):
    """An expression whose value needs the script to run."""


def literal(node: ast.AST, names: dict[str, Any]) -> Any:
    """The value of a literal expression (constants of the script allowed by name); NotStatic otherwise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        values = [literal(e, names) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](values)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {literal(k, names): literal(v, names) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise NotStatic(f"`{node.id}` is not a literal constant of the script")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        v = literal(node.operand, names)
        return -v if isinstance(node.op, ast.USub) else +v if isinstance(node.op, ast.UAdd) else not v
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow, ast.Mod)):
        a, b = literal(node.left, names), literal(node.right, names)
        if not all(isinstance(v, (int, float, str)) for v in (a, b)) or (isinstance(node.op, ast.Pow) and abs(b) > 64):
            raise NotStatic("arithmetic on something that is not a number")
        return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
                ast.FloorDiv: lambda: a // b, ast.Pow: lambda: a ** b, ast.Mod: lambda: a % b}[type(node.op)]()
    raise NotStatic(f"`{ast.unparse(node)}` needs the script to run")


def constants(stmts: list[ast.stmt]) -> dict[str, Any]:
    """The script's module-level literal constants (``EPOCHS = 3``, ``LR = 1e-3 * 2``), in order; others are skipped."""
    out: dict[str, Any] = {}
    for s in stmts:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            try:
                out[s.targets[0].id] = literal(s.value, out)
            except (NotStatic, ArithmeticError, TypeError):
                out.pop(s.targets[0].id, None)
    return out


def build_parser(stmts: list[ast.stmt], names: dict[str, Any], prog: str) -> tuple[argparse.ArgumentParser, list[str]]:
    """An argparse parser with the options the statements add, and notes on what could not be read statically."""
    parser = argparse.ArgumentParser(prog=prog, add_help=True)
    notes: list[str] = []
    for stmt in stmts:
        for call in (n for n in ast.walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
            method = call.func.attr
            if method == "add_argument":  # on the parser or on one of its groups: one flat parser either way
                _add(parser, call, names, notes)
            elif method == "set_defaults":
                for kw in call.keywords:
                    try:
                        parser.set_defaults(**{kw.arg: literal(kw.value, names)})
                    except NotStatic as err:
                        notes.append(f"line {call.lineno}: the default of `{kw.arg}` was not read ({err}); it is None")
                        parser.set_defaults(**{kw.arg: None})
    return parser, notes


def _add(parser: argparse.ArgumentParser, call: ast.Call, names: dict[str, Any], notes: list[str]) -> None:
    try:
        flags = [literal(a, names) for a in call.args]
    except NotStatic as err:
        raise NotStatic(f"line {call.lineno}: the option's name is not a literal ({err})") from None
    kwargs: dict[str, Any] = {}
    label = flags[0] if flags else "?"
    for kw in call.keywords:
        if kw.arg in ("help", "metavar") or kw.arg is None:
            continue
        if kw.arg == "type":
            name = dotted(kw.value)
            if name in _TYPES:
                kwargs["type"] = _TYPES[name]
            else:
                notes.append(f"line {call.lineno}: `{label}` has `type={ast.unparse(kw.value)}`, which scaffold does not run; "
                             "its value is kept as the text given")
            continue
        try:
            kwargs[kw.arg] = literal(kw.value, names)
        except NotStatic as err:
            if kw.arg == "default":
                notes.append(f"line {call.lineno}: the default of `{label}` was not read ({err}); it is None in the config")
                kwargs["default"] = None
            elif kw.arg in ("choices",):
                continue
            else:
                raise NotStatic(f"line {call.lineno}: `{kw.arg}=` of `{label}` is not a literal ({err})") from None
    parser.add_argument(*flags, **kwargs)
