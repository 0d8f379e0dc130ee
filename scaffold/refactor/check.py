"""The check between render and write: a project that would not import or would fail on a missing name is never written.

It reads the generated files only (nothing runs): every file compiles (``compile`` also rejects a ``break`` outside
its loop and a ``return`` outside a function); every name a scope reads is bound somewhere it can be found (its
own scope, an enclosing function, the module, or the builtins; ``symtable`` gives Python's own answer); and no
statement follows a ``return`` / ``raise`` / ``break`` / ``continue`` in the same block (it would never run).
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__builtins__", "__doc__", "__spec__", "__loader__",
                                        "__package__", "__path__", "__annotations__", "__class__"}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    what: str
    name: str | None = None  # the undefined name, when that is the problem

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


def check_files(files: dict[str, str]) -> list[Problem]:
    """Problems in the Python files of ``files`` (relative path -> text); an empty list means the project can be written."""
    problems: list[Problem] = []
    for rel, text in files.items():
        if rel.endswith(".py"):
            problems += check_source(rel, text)
    return problems


def check_source(rel: str, text: str) -> list[Problem]:
    try:
        compile(text, rel, "exec", dont_inherit=True)
        tree = ast.parse(text)
        table = symtable.symtable(text, rel, "exec")
    except SyntaxError as err:
        return [Problem(rel, err.lineno or 0, f"does not compile: {err.msg}")]
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree)):
        module_names = None  # `from x import *`: what the module binds is not known from its text
    else:
        module_names = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    problems = []
    if module_names is not None:
        lines = _first_reads(tree)
        for name in sorted(_global_reads(table) - module_names - _BUILTINS):
            problems.append(Problem(rel, lines.get(name, 0), f"reads `{name}`, which is defined nowhere in the file", name))
    problems += _dead_code(rel, tree)
    return sorted(problems, key=lambda p: p.line)


def _global_reads(table: symtable.SymbolTable) -> set[str]:
    """Names read in any scope that resolve to the module (or the builtins)."""
    out = set()
    for sym in table.get_symbols():
        if not sym.is_referenced():
            continue
        if table.get_type() == "module":
            out.add(sym.get_name())
        elif sym.is_global() and not sym.is_declared_global():
            out.add(sym.get_name())
        elif table.get_type() == "class" and not (sym.is_assigned() or sym.is_imported() or sym.is_namespace() or sym.is_free()):
            out.add(sym.get_name())
        elif sym.is_declared_global():
            out.add(sym.get_name())
    for child in table.get_children():
        out |= _global_reads(child)
    return out


def _first_reads(tree: ast.AST) -> dict[str, int]:
    out: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            out[node.id] = min(out.get(node.id, node.lineno), node.lineno)
    return out


def _dead_code(rel: str, tree: ast.AST) -> list[Problem]:
    out = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for i, stmt in enumerate(block[:-1]):
                if isinstance(stmt, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
                    kind = type(stmt).__name__.lower()
                    out.append(Problem(rel, block[i + 1].lineno, f"never runs: it follows a `{kind}` (line {stmt.lineno}) in the same block"))
                    break
    return out
