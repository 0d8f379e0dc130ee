"""`scaffold refactor`: a raw PyTorch training script -> the project layout of `scaffold new`, running on `runtime`.

>>> from scaffold.refactor import refactor_script
>>> result = refactor_script("train_mnist.py", output="mnist-project")  # doctest: +SKIP
>>> print(result.report)  # doctest: +SKIP

The pipeline: analyze (find the loops in the tree) -> plan (what goes where, automatic or manual optimization;
final once made) -> emit (the modules lifted from the script, the config, and a plain record of what went where,
which REFACTOR.md reads) -> the rest of the layout rendered from the templates `scaffold new` uses (templates/_refactor
and templates/_shared) -> black -> check -> written in a temporary folder and moved into place, so a failure
leaves nothing behind. ``verify=True`` then runs the script and the project a few steps and compares the losses.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.refactor.errors import TargetExistsError

__all__ = ["refactor_script", "RefactorResult"]


@dataclass
class RefactorResult:
    path: Path
    package: str
    mode: str
    report: str
    unplaced: int
    carried: list[str] = field(default_factory=list)
    verify: object | None = None  # a verify.Comparison when verify=True


def _names(script: Path, name: str | None) -> tuple[str, str, str]:
    from scaffold.answers import check_name
    from scaffold.errors import BadNameError

    if name and ("/" in name or "\\" in name or ".." in name or name in (".", "~") or name.startswith("~")):
        raise BadNameError(f"project name {name!r} contains a path separator or '..'; give a plain name such as "
                           "'mnist-project' with --name, and the folder to write with --output (e.g. --output ../mnist-project)")
    name = name or re.sub(r"[^A-Za-z0-9_-]+", "-", script.stem).strip("-_").replace("_", "-") or "refactored"
    if name[0].isdigit():
        name = f"project-{name}"
    package = check_name(name)
    prefix = "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", package) if p) or "Script"
    return name, package, prefix


def refactor_script(script: str | os.PathLike, output: str | os.PathLike | None = None, name: str | None = None,
                    force: bool = False, verify: bool = False, script_args: list[str] | tuple = (),
                    verify_steps: int = 40) -> RefactorResult:
    """Refactor ``script`` into a project at ``output`` (default: ./NAME) and return what happened.

    ``script_args`` are the script's own command-line arguments: its argparse parser reads them and the
    values become configs/default.yaml. Raises a ``ScaffoldError`` (nothing written) on bad input.
    """
    from scaffold.refactor.analyze import analyze
    from scaffold.refactor.emit import Emitter
    from scaffold.refactor.plan import make_plan
    from scaffold.refactor.report import report
    from scaffold.refactor.source import load_script

    script = Path(script)
    loaded = load_script(script)
    name, package, prefix = _names(script, name)
    target = Path(output).expanduser() if output is not None else Path.cwd() / name
    target = target.resolve()
    if target.exists() and not target.is_dir():
        raise TargetExistsError(f"{target} exists and is a file; choose another --output")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise TargetExistsError(f"{target} exists and is not empty; choose another --output, or pass --force to write the "
                                "project's files over it (other files are kept)")
    from scaffold.refactor.phases import unroll_phases

    loaded = unroll_phases(loaded)  # `for phase in ['train', 'val']:` -> a training loop, then an evaluation loop
    info = analyze(loaded)
    plan = make_plan(info, list(script_args))
    emitted = Emitter(plan, package, prefix).build()
    files = _layout(name, script.name, plan.mode, emitted, cuda_amp=plan.precision == "16-mixed")
    files.update({
        "configs/default.yaml": emitted.config,
        f"{package}/module.py": emitted.module,
        f"{package}/datamodule.py": emitted.data,
        f"{package}/models.py": emitted.models,
        "REFACTOR.md": report(plan, emitted),
        ".scaffold.json": _record(name, package, script.name, list(script_args), plan.mode),
    })
    files = _formatted(files)
    _check(files, emitted, loaded)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=".scaffold-", dir=parent))
    try:
        out = tmp_root / name
        for rel, text in files.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        carried = _carry_local_files(loaded, out)
        if target.is_dir():
            from scaffold.render import merge_into

            merge_into(out, target)
        else:
            shutil.move(str(out), str(target))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    written_report = (target / "REFACTOR.md").read_text(encoding="utf-8")
    result = RefactorResult(target, package, plan.mode, written_report, len(emitted.unplaced), carried)
    if verify:
        from scaffold.refactor.verify import compare, evaluation_lines

        result.verify = compare(script, target, list(script_args), steps=verify_steps, precision=plan.precision,
                                seed=0 if plan.seed is True else None, eval_lines=evaluation_lines(plan.analysis),
                                script_seed=plan.seed if type(plan.seed) is int else None)
    return result


def _formatted(files: dict[str, str]) -> dict[str, str]:
    """The Python files through black, in memory (as `scaffold new` formats its own): the check reads the lines that
    will be written."""
    from scaffold.errors import RenderError
    from scaffold.render import format_python

    out = dict(files)
    for rel, src in files.items():
        if not rel.endswith(".py"):
            continue
        try:
            ast.parse(src)
        except SyntaxError as err:
            raise RenderError(f"{rel}: scaffold refactor produced Python that does not parse ({err}); "
                              "this is a bug in scaffold, please report it with the script") from err
        out[rel] = format_python(src, rel)
    return out


def _check(files: dict[str, str], emitted, script) -> None:
    """Refuse (nothing written) when a generated file would not compile, reads a name defined nowhere, or holds dead code."""
    from scaffold.refactor.check import check_files
    from scaffold.refactor.errors import UnsafeRefactorError

    problems = check_files(files)
    if not problems:
        return
    lines = []
    for p in problems[:6]:
        shown = files[p.file].splitlines()[p.line - 1].strip() if 0 < p.line <= len(files[p.file].splitlines()) else ""
        origin = ""
        if p.name and p.name in emitted.unresolved:
            at = sorted({w for w in emitted.unresolved[p.name] if w})
            origin = f" (script line {', '.join(map(str, at))})" if at else ""
        lines.append(f"  - {p}{origin}" + (f"\n      {shown}" if shown else ""))
    names = [p.name for p in problems if p.name]
    advice = []
    if names:
        advice.append(f"define {', '.join(f'`{n}`' for n in dict.fromkeys(names))} where the training code can see it (at module "
                      "level, or as an argument of the function that trains), or build it from the script's options")
    if any("never runs" in p.what for p in problems):
        advice.append("move the code after an early `return` / `break` into the branch that runs")
    if any("does not compile" in p.what for p in problems):
        advice.append("stop training early with a condition on the loop instead of `break` inside the epoch loop")
    raise UnsafeRefactorError(
        f"{script.path}: scaffold refactor stopped before writing anything: the project it would write does not run as "
        f"the script does:\n" + "\n".join(lines) + ("\n  ..." if len(problems) > 6 else "") +
        "\nWhat to change in the script: " + "; ".join(advice or ["see the lines above"]) + ".")


def _carry_local_files(script, out: Path) -> list[str]:
    """Local modules the script imports and files it names by relative path, copied so the project still runs."""
    base = script.path.resolve().parent
    carried = []
    trees, seen = [script.tree], set()
    while trees:  # the local modules the carried modules import are carried too (super_resolution: main -> data -> dataset)
        tree = trees.pop()
        before = len(carried)
        _local_references(tree, base, script, carried)
        for rel in carried[before:]:
            if rel.endswith(".py") and rel not in seen and (base / rel).is_file():
                seen.add(rel)
                try:
                    trees.append(ast.parse((base / rel).read_text(encoding="utf-8")))
                except (SyntaxError, UnicodeDecodeError, OSError):
                    pass
    for rel in dict.fromkeys(carried):
        src, dst = base / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    return list(dict.fromkeys(carried))


def _local_references(tree: ast.AST, base: Path, script, carried: list[str]) -> None:
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module.split(".")[0]]
        for n in names:
            for cand in (base / f"{n}.py", base / n):
                if cand.exists() and cand.resolve() != script.path.resolve():
                    carried.append(cand.name)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 200 and "\n" not in node.value:
            rel = node.value
            if not os.path.isabs(rel) and ".." not in rel and any(ch in rel for ch in "*?["):
                # a glob the script reads its data with (`glob.glob('data/names/*.txt')`): the files it matches
                try:
                    matches = [m for m in sorted(base.glob(rel))[:1000] if m.is_file() and m.stat().st_size < 50_000_000]
                except (OSError, ValueError, NotImplementedError):
                    matches = []
                carried += [m.relative_to(base).as_posix() for m in matches]
            elif not os.path.isabs(rel) and ".." not in rel:
                try:
                    cand = base / rel
                    if cand.is_file() and cand.resolve() != script.path.resolve() and cand.stat().st_size < 50_000_000:
                        carried.append(rel)
                except (OSError, ValueError):
                    pass


def _record(name: str, package: str, script: str, script_args: list[str], mode: str) -> str:
    """.scaffold.json: what the project was made from."""
    import json

    from scaffold.generate import scaffold_version

    return json.dumps({"name": name, "package": package, "refactored_from": script, "script_args": script_args,
                       "mode": mode, "scaffold_version": scaffold_version()}, indent=2) + "\n"


def _layout(name: str, script: str, mode: str, emitted, cuda_amp: bool = False) -> dict[str, str]:
    """The files the project shares with `scaffold new`'s (train.py, pyproject.toml, tests/conftest.py, .gitignore) and
    the refactor's own README, smoke test and package docstring: rendered from the templates, as `scaffold new` does.
    ``cuda_amp``: the script's float16 autocast, on only where CUDA is: train.py picks the precision at start-up."""
    from scaffold.render import REFACTOR_LAYOUT, read_tree, render_template
    from scaffold.templates import templates_root

    context = {"cookiecutter": {"project_name": name, "package_name": emitted.package, "_module_class": emitted.module_class,
                                "_datamodule_class": emitted.data_class, "_refactored_from": script, "_mode": mode,
                                "_cuda_amp": cuda_amp}}
    with tempfile.TemporaryDirectory(prefix=".scaffold-") as tmp:
        return read_tree(render_template(templates_root() / REFACTOR_LAYOUT, context, Path(tmp),
                                         answers=[name, emitted.package, script]))
