"""`scaffold new` as a library call: answers -> a rendered, black-formatted project, moved into place at the end.

>>> from scaffold.generate import new_project
>>> path = new_project("gan-project", output_dir=tmp)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from scaffold.answers import (
    Question,
    TemplateSpec,
    check_name,
    collect_answers,
    find_template,
    guess_kind,
    load_spec,
)
from scaffold.errors import RenderError, TargetExistsError
from scaffold.templates import list_templates

ANSWERS_FILE = ".scaffold.json"
_MARKERS = ("{{", "{%", "{#", "cookiecutter.")


@dataclass
class Plan:
    """Everything decided before rendering: where, which template, which answers."""

    name: str
    package: str
    spec: TemplateSpec
    answers: dict[str, str]
    target: Path
    extra: dict = field(default_factory=dict)  # context values derived from the answers (sizes of a data file)


def plan_project(
    name: str,
    template: str | None = None,
    output_dir: str | os.PathLike = ".",
    force: bool = False,
    sets: dict[str, str] | None = None,
    ask: Callable[[Question, str], str] | None = None,
    ask_kind: Callable[[list[str], str], str] | None = None,
) -> Plan:
    """Check the name, the template, the target folder and every answer; nothing is written.

    ``ask``/``ask_kind`` are the prompts (None: take the defaults and never wait).
    """
    package = check_name(name)
    output_dir = Path(output_dir).expanduser().resolve()
    target = output_dir / name
    if target.exists() and not target.is_dir():
        raise TargetExistsError(f"{target} exists and is a file; choose another name or --output-dir")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise TargetExistsError(
            f"{target} exists and is not empty; choose another name, another --output-dir, or pass --force "
            "to write the project's files over it (other files are kept)"
        )
    if template is None:
        known = [t.name for t in list_templates()]
        template = guess_kind(name, known)
        if ask_kind is not None:
            template = ask_kind(known, template)
    spec = load_spec(find_template(template))
    answers = collect_answers(spec, dict(sets or {}), ask=ask, base_dir=Path.cwd())
    extra = {}
    if answers.get("data", "synthetic") != "synthetic":
        from scaffold.data import inspect_data

        extra = inspect_data(answers["data"], spec.name)
    return Plan(name, package, spec, answers, target, extra)


def render(plan: Plan, into: Path) -> Path:
    """Render the template into ``into`` (which must exist), format it with black, write the answers file."""
    from cookiecutter.generate import generate_files

    context = {
        "cookiecutter": {
            **{k: v for k, v in plan.spec.raw.items() if k.startswith("_") and not k.startswith("__")},
            "project_name": plan.name,
            "package_name": plan.package,
            **plan.extra,
            **plan.answers,
        }
    }
    try:
        out = Path(generate_files(repo_dir=str(plan.spec.info.path), context=context, output_dir=str(into),
                                  accept_hooks=False))
    except Exception as err:  # cookiecutter raises several unrelated types for a broken template
        raise RenderError(f"the {plan.spec.name} template failed to render: {type(err).__name__}: {err}") from err
    _check_markers(out, [str(v) for v in plan.answers.values()])
    _format_with_black(out, _verbatim_sources(plan.spec.info.path))
    record = {
        "name": plan.name,
        "package": plan.package,
        "template": plan.spec.name,
        "template_version": plan.spec.version,
        "scaffold_version": _scaffold_version(),
        "answers": plan.answers,
    }
    (out / ANSWERS_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out


def new_project(
    name: str,
    template: str | None = None,
    output_dir: str | os.PathLike = ".",
    force: bool = False,
    sets: dict[str, str] | None = None,
    ask: Callable[[Question, str], str] | None = None,
    ask_kind: Callable[[list[str], str], str] | None = None,
) -> Path:
    """Generate project ``name`` under ``output_dir`` and return its folder.

    The project is rendered in a temporary folder and moved into place only when rendering, formatting
    and the checks all succeeded, so a failure leaves nothing behind.
    """
    plan = plan_project(name, template, output_dir, force, sets, ask, ask_kind)
    parent = plan.target.parent
    # a temporary folder beside the target when possible, so the final move is a rename
    tmp_root = Path(tempfile.mkdtemp(prefix=".scaffold-", dir=parent if parent.is_dir() else None))
    try:
        rendered = render(plan, tmp_root)
        parent.mkdir(parents=True, exist_ok=True)
        if plan.target.is_dir():
            _merge(rendered, plan.target)  # --force: the project's files over the existing folder
        else:
            shutil.move(str(rendered), str(plan.target))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return plan.target


def _merge(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        else:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


def _text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".yaml", ".yml", ".json", ".cfg", ".gitignore", ""}:
            yield path


def _check_markers(root: Path, answers: list[str] = ()) -> None:
    """A RenderError for template syntax left in the output; the user's own answers (a data path with
    ``{{`` in it) are not template syntax, so they are taken out of the text before looking."""
    quoted = [a for a in answers if any(m in a for m in _MARKERS)]
    quoted += [json.dumps(a)[1:-1] for a in quoted]
    for path in _text_files(root):
        text = path.read_text(encoding="utf-8")
        for answer in quoted:
            text = text.replace(answer, "")
        for marker in _MARKERS:
            if marker in text:
                line = text[: text.index(marker)].count("\n") + 1
                raise RenderError(f"{path.relative_to(root)}:{line}: unrendered template marker {marker!r}")
    for path in root.rglob("*"):
        if "{{" in path.name or "}}" in path.name:
            raise RenderError(f"{path.relative_to(root)}: unrendered template marker in a file name")


def _verbatim_sources(template_dir: Path) -> set[str]:
    """The template's Python files without template syntax: they render as they are, and are kept black-formatted
    in the template itself (tests/scaffold/test_templates.py checks it), so black need not read them again."""
    texts = set()
    for path in template_dir.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if not any(marker in text for marker in _MARKERS):
            texts.add(text.rstrip("\n"))  # rendering drops the last newline
    return texts


def _format_with_black(root: Path, formatted: set[str] = frozenset()) -> None:
    import black

    mode = black.Mode()
    for path in sorted(root.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        if src.rstrip("\n") in formatted:
            path.write_text(src.rstrip("\n") + "\n", encoding="utf-8")
            continue
        try:
            formatted = black.format_file_contents(src, fast=False, mode=mode)
        except black.NothingChanged:
            continue
        except Exception as err:  # black.InvalidInput and friends: the template emitted broken Python
            raise RenderError(f"{path.relative_to(root)}: black cannot format the rendered file: {err}") from err
        path.write_text(formatted, encoding="utf-8")


def _scaffold_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kindling")
    except PackageNotFoundError:
        return "unknown"
