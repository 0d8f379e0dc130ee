"""The one renderer of `scaffold new` and `scaffold refactor`: a template folder rendered by cookiecutter, with the
files every project shares (``templates/_shared``), its Python formatted by black, then moved into place.

>>> out = render_template(templates_root() / "minimal", context, into=tmp)  # doctest: +SKIP
>>> format_tree(out, verbatim_sources(templates_root() / "minimal"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterable

from scaffold.errors import RenderError
from scaffold.templates import templates_root

SHARED = "_shared"  # files every project has: train.py, pyproject.toml, tests/conftest.py, .gitignore
REFACTOR_LAYOUT = "_refactor"  # what `scaffold refactor` adds around the modules it writes
_MARKERS = ("{{", "{%", "{#", "cookiecutter.")


def shared_dir() -> Path:
    return templates_root() / SHARED


def render_template(template_dir: Path, context: dict, into: Path, answers: Iterable[str] = ()) -> Path:
    """Render ``template_dir`` into ``into`` (which must exist), then the shared files it does not hold itself, then
    copy the helper modules its ``_helpers`` names into the package. Returns the project's folder.

    ``context`` is cookiecutter's (``{"cookiecutter": {...}}``); ``answers`` are the user's own values, which may hold
    text that looks like template syntax (a data path with ``{{``) and are not mistaken for it.
    """
    from cookiecutter.generate import generate_files

    values = context["cookiecutter"]
    try:
        out = Path(generate_files(repo_dir=str(template_dir), context=context, output_dir=str(into), accept_hooks=False))
        # a template's own file wins over the shared one of the same name
        generate_files(repo_dir=str(shared_dir()), context=context, output_dir=str(into), overwrite_if_exists=True,
                       skip_if_file_exists=True, accept_hooks=False)
    except Exception as err:  # cookiecutter raises several unrelated types for a broken template
        raise RenderError(f"the {template_dir.name} template failed to render: {type(err).__name__}: {err}") from err
    for name in values.get("_helpers", ()):
        helper = shared_dir() / "helpers" / name
        if not helper.is_file():
            raise RenderError(f"the {template_dir.name} template names the helper {name!r} (`_helpers` in its "
                              f"cookiecutter.json), which is not in {helper.parent}")
        shutil.copyfile(helper, out / values["package_name"] / name)
    check_markers(out, list(answers))
    return out


def read_tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` as text, by its path relative to ``root`` (with ``/``)."""
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*")) if path.is_file()}


def merge_into(src: Path, dst: Path) -> None:
    """Copy the files under ``src`` over ``dst`` (``--force``): the project's files replace theirs, others are kept."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        else:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


def format_python(src: str, where: str) -> str:
    """``src`` formatted by black; a RenderError naming ``where`` when black cannot read it."""
    import black

    try:
        return black.format_file_contents(src, fast=False, mode=black.Mode())
    except black.NothingChanged:
        return src
    except Exception as err:  # black.InvalidInput and friends: the template emitted broken Python
        raise RenderError(f"{where}: black cannot format the rendered file: {err}") from err


def format_tree(root: Path, verbatim: set[str] = frozenset()) -> None:
    """Every Python file under ``root`` through black, except those whose text is in ``verbatim`` (already formatted)."""
    for path in sorted(root.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        if src.rstrip("\n") in verbatim:
            path.write_text(src.rstrip("\n") + "\n", encoding="utf-8")
            continue
        out = format_python(src, str(path.relative_to(root)))
        if out != src:
            path.write_text(out, encoding="utf-8")


def verbatim_sources(*template_dirs: Path) -> set[str]:
    """The templates' Python files without template syntax: they render as they are, and are kept black-formatted
    in the templates themselves (tests/scaffold/test_templates.py checks it), so black need not read them again."""
    texts = set()
    for template_dir in template_dirs:
        for path in template_dir.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if not any(marker in text for marker in _MARKERS):
                texts.add(text.rstrip("\n"))  # rendering drops the last newline
    return texts


def _text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".yaml", ".yml", ".json", ".cfg", ".gitignore", ""}:
            yield path


def check_markers(root: Path, answers: list[str] = ()) -> None:
    """A RenderError for template syntax left in the output; the user's own answers (a data path with ``{{`` in it,
    a project named ``cookiecutter``, whose package is imported as ``cookiecutter.module``) are not template syntax,
    so they are taken out of the text before looking."""
    quoted = [a for a in answers if any(m in a + "." for m in _MARKERS)]
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
