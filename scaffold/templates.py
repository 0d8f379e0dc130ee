"""Find the cookiecutter templates shipped in the `templates` package."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path


@dataclass(frozen=True)
class TemplateInfo:
    """One template folder: its name (the kind of project), where it is, and its description."""

    name: str
    path: Path
    description: str = ""


def templates_root() -> Path:
    """The folder that holds the template folders, from the installed wheel or the source tree."""
    return Path(str(files("templates")))


def list_templates(root: Path | None = None) -> list[TemplateInfo]:
    """Template folders under ``root`` (default: the shipped ones), sorted by name.

    A folder is a template when it holds a ``cookiecutter.json``; its ``_description`` key,
    when present, is the description.

    >>> [t.name for t in list_templates()]  # doctest: +SKIP
    ['classifier', 'minimal']
    """
    root = templates_root() if root is None else Path(root)
    found = []
    for child in sorted(root.iterdir(), key=lambda p: p.name):
        config = child / "cookiecutter.json"
        if not child.is_dir() or not config.is_file():
            continue
        try:
            description = str(json.loads(config.read_text(encoding="utf-8")).get("_description", ""))
        except (ValueError, AttributeError):
            description = ""
        found.append(TemplateInfo(child.name, child, description))
    return found
