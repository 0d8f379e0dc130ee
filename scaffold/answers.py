"""Questions, their defaults and the checks on every answer, before anything is rendered.

The questions of a template are the keys of its ``cookiecutter.json`` that do not start with ``_``
(``project_name`` and ``package_name`` come from the NAME argument, not from a question). A list value
is a choice whose first item is the default; ``__prompts__`` holds the question text.
"""

from __future__ import annotations

import difflib
import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from scaffold.errors import BadAnswerError, BadNameError, UnknownTemplateError
from scaffold.templates import TemplateInfo, list_templates

# Keys scaffold fills itself; they are not questions and `--set` cannot change them.
DERIVED_KEYS = ("project_name", "package_name")

# Words in a project name that suggest a kind of project: `gan-project` -> gan.
_NAME_HINTS = {
    "gan": ("gan", "gans", "dcgan", "wgan", "stylegan", "generative", "adversarial"),
    "classifier": ("classifier", "classification", "clf", "cls", "mnist", "cifar", "imagenet", "classify"),
    "autoencoder": ("autoencoder", "autoencoders", "ae", "vae", "encoder", "denoising", "reconstruction"),
    "language-model": ("lm", "llm", "gpt", "nanogpt", "language", "transformer", "char", "text", "chargpt"),
}
DEFAULT_KIND = "minimal"

# Folder names are limited to 255 bytes on common file systems; a readable name is far shorter.
MAX_NAME_LENGTH = 100

# Packages a project must not shadow: it runs from its own folder, which comes first on sys.path.
_RESERVED_PACKAGES = {"runtime", "scaffold", "templates", "torch", "numpy", "tests", "test", "configs", "lightning"}


@dataclass(frozen=True)
class Question:
    """One answer a template needs: its key, default, allowed values (empty: free text) and prompt."""

    key: str
    default: str
    choices: tuple[str, ...] = ()
    prompt: str = ""


@dataclass
class TemplateSpec:
    """A template's questions and metadata, read from its ``cookiecutter.json``."""

    info: TemplateInfo
    version: str
    questions: list[Question]
    data_extensions: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.info.name

    def question(self, key: str) -> Question:
        for q in self.questions:
            if q.key == key:
                return q
        raise KeyError(key)


def check_name(name: str) -> str:
    """The Python package name for project ``name``, or a BadNameError saying why it cannot be one.

    >>> check_name("gan-project")
    'gan_project'
    """
    if not name or not name.strip():
        raise BadNameError("the project name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise BadNameError(
            f"the project name is {len(name)} characters long; use at most {MAX_NAME_LENGTH} (it becomes a folder "
            f"and a Python package name), for example {name[:20].rstrip('-_')!r}"
        )
    if "/" in name or "\\" in name or ".." in name or name in (".", "~") or name.startswith("~"):
        raise BadNameError(
            f"project name {name!r} contains a path separator or '..'; give a plain name such as "
            "'gan-project' and choose the parent folder with --output-dir"
        )
    package = name.replace("-", "_").lower()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name) or not package.isidentifier():
        raise BadNameError(
            f"project name {name!r} cannot become a Python package: use letters, digits, '-' and '_', "
            "starting with a letter (for example 'my-classifier')"
        )
    if keyword.iskeyword(package) or package in _RESERVED_PACKAGES or package in sys.stdlib_module_names:
        raise BadNameError(
            f"project name {name!r} gives the package {package!r}, which would shadow a Python keyword or an "
            f"existing package; choose another name (for example '{package}-project')"
        )
    return package


def guess_kind(name: str, known: list[str] | None = None) -> str:
    """The kind of project a name suggests (`gan-project` -> 'gan'), else 'minimal'.

    >>> guess_kind("mnist-classifier"), guess_kind("char-lm"), guess_kind("my-thing")
    ('classifier', 'language-model', 'minimal')
    """
    words = [w for w in re.split(r"[-_\s]+", name.lower()) if w]
    for kind, hints in _NAME_HINTS.items():
        if known is not None and kind not in known:
            continue
        if any(w in hints for w in words) or kind in name.lower():
            return kind
    return DEFAULT_KIND


def find_template(kind: str, root: Path | None = None) -> TemplateInfo:
    """The template folder for ``kind``; an UnknownTemplateError listing the known kinds otherwise."""
    found = list_templates(root)
    for t in found:
        if t.name == kind:
            return t
    names = [t.name for t in found]
    close = difflib.get_close_matches(kind, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownTemplateError(f"unknown template {kind!r}; the known templates are: {', '.join(names)}.{hint}")


def load_spec(info: TemplateInfo) -> TemplateSpec:
    """Read a template's ``cookiecutter.json`` into its questions."""
    raw = json.loads((info.path / "cookiecutter.json").read_text(encoding="utf-8"))
    prompts = raw.get("__prompts__", {})
    questions = []
    for key, value in raw.items():
        if key.startswith("_") or key in DERIVED_KEYS:
            continue
        if isinstance(value, list):
            choices = tuple(str(v) for v in value)
            questions.append(Question(key, choices[0], choices, prompts.get(key, key)))
        else:
            questions.append(Question(key, str(value), (), prompts.get(key, key)))
    return TemplateSpec(
        info=info,
        version=str(raw.get("_template_version", "0")),
        questions=questions,
        data_extensions=tuple(raw.get("_data_extensions", ())),
        raw=raw,
    )


def parse_sets(pairs: list[str] | None) -> dict[str, str]:
    """``["lr=0.01", "max_epochs=5"]`` -> ``{"lr": "0.01", "max_epochs": "5"}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadAnswerError(f"--set expects key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def check_answer(spec: TemplateSpec, key: str, value: str, base_dir: Path | None = None) -> str:
    """The normalised answer, or a BadAnswerError naming the key, the value and what is allowed."""
    q = spec.question(key)
    if q.choices:
        if value not in q.choices:
            close = difflib.get_close_matches(value, q.choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise BadAnswerError(f"{key}={value!r} is not one of: {', '.join(q.choices)}{hint}")
        return value
    checker = _CHECKS.get(key)
    return checker(spec, key, value, base_dir) if checker else value


def _positive_float(spec: TemplateSpec, key: str, value: str, base_dir: Path | None) -> str:
    try:
        number = float(value)
    except ValueError:
        raise BadAnswerError(f"{key}={value!r} is not a number (for example {spec.question(key).default})") from None
    if not number > 0 or number != number or number == float("inf"):
        raise BadAnswerError(f"{key}={value!r} must be a positive number")
    return repr(number)


def _positive_int(spec: TemplateSpec, key: str, value: str, base_dir: Path | None) -> str:
    try:
        number = int(value)
    except ValueError:
        raise BadAnswerError(f"{key}={value!r} is not a whole number (for example {spec.question(key).default})") from None
    if number < 1:
        raise BadAnswerError(f"{key}={value!r} must be at least 1")
    return str(number)


def _data(spec: TemplateSpec, key: str, value: str, base_dir: Path | None) -> str:
    if value in ("", "synthetic"):
        return "synthetic"
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    path = path.resolve()
    if not spec.data_extensions:
        raise BadAnswerError(f"the {spec.name} template makes its own data; data must be 'synthetic', got {value!r}")
    folders = "folder" in spec.data_extensions
    suffixes = [e for e in spec.data_extensions if e != "folder"]
    allowed = " or ".join(([", ".join(suffixes) + " files"] if suffixes else []) + (["a folder of images"] if folders else []))
    if path.is_dir():
        if not folders:
            raise BadAnswerError(f"data {str(path)!r} is a folder; the {spec.name} template reads {allowed}")
        return str(path)
    if not path.is_file():
        raise BadAnswerError(f"data {str(path)!r} does not exist; give an existing {allowed}, or 'synthetic'")
    if path.suffix.lower() not in suffixes:
        raise BadAnswerError(f"data file {str(path)!r} has an unsupported type; the {spec.name} template reads {allowed}")
    return str(path)


_CHECKS: dict[str, Callable[[TemplateSpec, str, str, Path | None], str]] = {
    "lr": _positive_float,
    "max_epochs": _positive_int,
    "data": _data,
}


def collect_answers(
    spec: TemplateSpec,
    sets: dict[str, str],
    ask: Callable[[Question, str], str] | None = None,
    base_dir: Path | None = None,
) -> dict[str, str]:
    """Every question's answer: ``sets`` first, then ``ask(question, default)`` when given, else the default.

    Unknown ``sets`` keys fail before anything is asked. A bad typed answer is asked again; a bad ``--set``
    value fails.
    """
    known = [q.key for q in spec.questions]
    for key in sets:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise BadAnswerError(
                f"unknown --set key {key!r} for the {spec.name} template; the keys are: {', '.join(known)}.{hint}"
            )
    answers: dict[str, str] = {}
    for q in spec.questions:
        if q.key in sets:
            answers[q.key] = check_answer(spec, q.key, sets[q.key], base_dir)
            continue
        if ask is None:
            answers[q.key] = check_answer(spec, q.key, q.default, base_dir)
            continue
        while True:
            try:
                answers[q.key] = check_answer(spec, q.key, ask(q, q.default), base_dir)
                break
            except BadAnswerError as err:
                print(f"  {err}", file=sys.stderr)
    return answers
