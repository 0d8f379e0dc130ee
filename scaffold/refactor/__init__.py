"""`scaffold refactor`: a raw PyTorch training script -> the project layout of `scaffold new`, running on `runtime`.

>>> from scaffold.refactor import refactor_script
>>> result = refactor_script("train_mnist.py", output="mnist-project")  # doctest: +SKIP
>>> print(result.report)  # doctest: +SKIP

The pipeline: analyze (find the loops in the tree) -> plan (what goes where, automatic or manual optimization)
-> emit (the files as text) -> black -> written in a temporary folder and moved into place, so a failure
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

    name = name or re.sub(r"[^A-Za-z0-9_-]+", "-", script.stem).strip("-_").replace("_", "-") or "refactored"
    if name[0].isdigit():
        name = f"project-{name}"
    package = check_name(name)
    prefix = "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", package) if p) or "Script"
    return name, package, prefix


def refactor_script(script: str | os.PathLike, output: str | os.PathLike | None = None, name: str | None = None,
                    force: bool = False, verify: bool = False, script_args: list[str] | tuple = (),
                    verify_steps: int = 5) -> RefactorResult:
    """Refactor ``script`` into a project at ``output`` (default: ./NAME) and return what happened.

    ``script_args`` are the script's own command-line arguments: its argparse parser reads them and the
    values become configs/default.yaml. Raises a ``ScaffoldError`` (nothing written) on bad input.
    """
    from scaffold.refactor.analyze import analyze
    from scaffold.refactor.emit import Emitter
    from scaffold.refactor.plan import make_plan
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
    info = analyze(loaded)
    plan = make_plan(info, list(script_args))
    emitter = Emitter(plan, package, prefix)
    sources = emitter.build()
    files = {
        "train.py": emitter.train_py(),
        "configs/default.yaml": emitter.config(),
        f"{package}/__init__.py": f'"""{name}: refactored from {script.name} by `scaffold refactor`."""\n',
        f"{package}/module.py": sources["module"],
        f"{package}/datamodule.py": sources["data"],
        f"{package}/models.py": sources["models"],
        "tests/test_smoke.py": emitter.smoke_test(),
        "REFACTOR.md": emitter.report(),
        "README.md": _readme(name, package, script.name, plan.mode),
        "pyproject.toml": _pyproject(name, package),
        ".gitignore": "__pycache__/\n*.pyc\n.pytest_cache/\nlightning_logs/\ncheckpoints/\n*.ckpt\n",
        ".scaffold.json": emitter.record(name, list(script_args)),
    }
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=".scaffold-", dir=parent))
    try:
        out = tmp_root / name
        for rel, text in files.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _format(out)
        carried = _carry_local_files(loaded, out)
        if target.is_dir():
            from scaffold.generate import _merge

            _merge(out, target)
        else:
            shutil.move(str(out), str(target))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    report = (target / "REFACTOR.md").read_text(encoding="utf-8")
    result = RefactorResult(target, package, plan.mode, report, len(plan.unplaced), carried)
    if verify:
        from scaffold.refactor.verify import compare

        result.verify = compare(script, target, list(script_args), steps=verify_steps, precision=plan.precision,
                                seed=0 if plan.seed is True else None)
    return result


def _format(root: Path) -> None:
    import black

    from scaffold.errors import RenderError

    for path in sorted(root.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        try:
            ast.parse(src)
            formatted = black.format_file_contents(src, fast=False, mode=black.Mode())
        except black.NothingChanged:
            continue
        except Exception as err:
            raise RenderError(f"{path.relative_to(root)}: scaffold refactor produced Python that does not parse ({err}); "
                              "this is a bug in scaffold, please report it with the script") from err
        path.write_text(formatted, encoding="utf-8")


def _carry_local_files(script, out: Path) -> list[str]:
    """Local modules the script imports and files it names by relative path, copied so the project still runs."""
    base = script.path.resolve().parent
    carried = []
    for node in ast.walk(script.tree):
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
            if not os.path.isabs(rel) and ".." not in rel:
                try:
                    cand = base / rel
                    if cand.is_file() and cand.resolve() != script.path.resolve() and cand.stat().st_size < 50_000_000:
                        carried.append(rel)
                except (OSError, ValueError):
                    pass
    for rel in dict.fromkeys(carried):
        src, dst = base / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    return list(dict.fromkeys(carried))


def _readme(name: str, package: str, script: str, mode: str) -> str:
    return (f"# {name}\n\nRefactored from `{script}` by `scaffold refactor` onto [runtime](https://pypi.org/project/kindling/) "
            f"(`import runtime as pl`, the PyTorch Lightning 2.x API); {mode} optimization.\n\n"
            "## Train\n\n```bash\npython train.py fit\npython train.py fit --trainer.max_epochs=3\n"
            "python train.py fit --print_config\n```\n\n"
            f"`{package}/models.py` holds the script's own classes and functions as written, `{package}/module.py` the "
            f"LightningModule, `{package}/datamodule.py` the data. `REFACTOR.md` says where each line of `{script}` went.\n")


def _pyproject(name: str, package: str) -> str:
    return (f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = ["kindling"]\n\n'
            f'[tool.setuptools]\npackages = ["{package}"]\n\n[tool.pytest.ini_options]\npythonpath = ["."]\ntestpaths = ["tests"]\n')
