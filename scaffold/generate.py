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
from scaffold.errors import TargetExistsError
from scaffold.render import format_tree, merge_into, render_template, shared_dir, verbatim_sources
from scaffold.templates import list_templates

ANSWERS_FILE = ".scaffold.json"


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
    context = {
        "cookiecutter": {
            **{k: v for k, v in plan.spec.raw.items() if k.startswith("_") and not k.startswith("__")},
            "project_name": plan.name,
            "package_name": plan.package,
            **plan.extra,
            **plan.answers,
        }
    }
    answers = [plan.name, plan.package, *(str(v) for v in plan.answers.values())]
    out = render_template(plan.spec.info.path, context, into, answers=answers)
    format_tree(out, verbatim_sources(plan.spec.info.path, shared_dir()))
    record = {
        "name": plan.name,
        "package": plan.package,
        "template": plan.spec.name,
        "template_version": plan.spec.version,
        "scaffold_version": scaffold_version(),
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
            merge_into(rendered, plan.target)  # --force: the project's files over the existing folder
        else:
            shutil.move(str(rendered), str(plan.target))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return plan.target


def scaffold_version() -> str:
    """The installed kindling's version, written into each project's .scaffold.json."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kindling")
    except PackageNotFoundError:
        return "unknown"
