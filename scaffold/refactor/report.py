"""REFACTOR.md: the report `scaffold refactor` prints and writes into the project, with the script's line numbers."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from scaffold.refactor.source import stored_names

if TYPE_CHECKING:
    from scaffold.refactor.emit import Emitted
    from scaffold.refactor.plan import Plan


def report(plan: "Plan", emitted: "Emitted") -> str:
    """REFACTOR.md: where each line went, what the trainer replaced, what could not be placed."""
    info = plan.analysis
    script = info.script
    lines = [f"# REFACTOR.md: {script.path.name} -> {emitted.package}", "",
             f"Made by `scaffold refactor`. Optimization: **{plan.mode}**" + (f" ({plan.mode_reason})." if plan.mode_reason else "."), ""]
    where: list[tuple[int, int, str]] = []
    for d in info.definitions:
        what = ("imports" if isinstance(d, (ast.Import, ast.ImportFrom)) else
                "the script's docstring" if isinstance(d, ast.Expr) else f"`{getattr(d, 'name', None) or ', '.join(stored_names([d]))}`")
        where.append((script.first_line(d), d.end_lineno, f"models.py, verbatim: {what}"))
    loops = []
    for rng, dest in dict.fromkeys(emitted.placed):
        a, _, b = rng.partition("-")
        loops.append((int(a), int(b or a), dest))
    loops.sort(key=lambda x: (x[0], -x[1]))
    for a, b, dest in loops:
        if not any(a2 <= a and b <= b2 and (a2, b2) != (a, b) and d2 == dest for a2, b2, d2 in loops):
            where.append((a, b, dest))
    functions = {d.name: d for d in script.tree.body if isinstance(d, ast.FunctionDef)}
    for name in sorted(info.consumed_functions):
        if name in functions:
            fn = functions[name]
            where.append((fn.lineno, fn.lineno, f"`def {name}`: its code went to the places listed for its lines"))
    for stmt in info.main_call:
        where.append((stmt.lineno, stmt.end_lineno, "the call that ran the training: `python train.py fit` does it now"))
    if info.epoch_loop is not None:
        loop = info.epoch_loop
        where.append((loop.lineno, loop.lineno, f"the epoch loop became `trainer.max_epochs: {plan.max_epochs}`"))
    replaced: list[tuple[int, int, str]] = []
    for note in emitted.notes:
        a, _, b = note.lines.partition("-")
        replaced.append((int(a), int(b or a), note.what))
    for node, what in emitted.used:
        replaced.append((node.lineno, node.lineno, what))
    lines += ["## Where each part of the script went", "", "| script lines | now |", "| --- | --- |"]
    for line, name, values in script.unrolled:
        where.append((line, line, f"`for {name} in {values}:` was unrolled: one copy of its body per value, `{name}` "
                                  "replaced by it and the `if`s on it reduced to the branch taken (a training loop, then an "
                                  "evaluation loop)"))
    lines += [f"| {r} | {t} |" for r, t in _merged(where, script)]
    lines += ["", "## Changes of meaning", "",
              "What the project does differently from the script (check these before trusting the results):", ""]
    lines += [f"- line{'s' if '-' in r else ''} {r}: {t}" for r, t in _merged(
        [(int(n.lines.partition('-')[0]), int(n.lines.partition('-')[2] or n.lines.partition('-')[0]), n.what)
         for n in emitted.meaning], script)] or ["None found: the steps, the data order and the updates are the script's."]
    lines += ["", "## Replaced by the trainer", ""]
    lines += [f"- line{'s' if '-' in r else ''} {r}: {t}" for r, t in _merged(replaced, script)] or ["Nothing."]
    lines += ["", "## Not placed", ""]
    if emitted.unplaced:
        for chunk, why in emitted.unplaced:
            a, b = script.source_line(script.first_line(chunk.stmt)), script.source_line(chunk.stmt.end_lineno)
            lines.append(f"- lines {a}-{b}: {why}. Kept, commented out, in the NOT PLACED block at the end of module.py:")
            lines += ["", "  ```python"] + ["  " + ln for ln in script.text[slice(*script.lines_span(chunk.stmt))].splitlines()] + ["  ```", ""]
    else:
        lines.append("Nothing: every statement of the script has a place (what changed meaning is listed above).")
    if emitted.unresolved:
        lines += ["", "## Names to check", ""]
        for name, at in emitted.unresolved.items():
            shown = ", ".join(str(w) for w in sorted({script.source_line(w) for w in at}) if w)
            lines.append(f"- `{name}`" + (f" (line {shown})" if shown else "") + " is read in moved code but defined nowhere "
                         "scaffold could find; define it before training.")
    return "\n".join(lines) + "\n"


def _merged(entries: list[tuple[int, int, str]], script) -> list[tuple[str, str]]:
    """Sorted by the script file's line; neighbours with the same text become one range (`63-72`)."""
    out: list[list] = []
    mapped = set()
    for a, b, text in entries:
        a2, b2 = script.source_line(a), script.source_line(b)
        mapped.add((min(a2, b2), max(a2, b2), text))
    for a, b, text in sorted(mapped):
        if out and out[-1][2] == text and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b, text])
    return [(f"{a}" if a == b else f"{a}-{b}", t) for a, b, t in out]
