"""What a class takes (from its ``__init__`` signature and docstring), finding classes by name, and building them.

A class in a config is written as Lightning writes it::

    class_path: runtime.callbacks.ModelCheckpoint   # or a short name: ModelCheckpoint
    init_args: {monitor: val_loss}
"""
import importlib
import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any

from runtime.cli.values import EMPTY, ConversionError, convert, is_plain
from runtime.utilities.suggest import nearest

# short class names are looked up here first (then among the subclasses of the expected base class)
SHORT_NAME_MODULES = ("runtime.cli.optim", "runtime.callbacks", "runtime.loggers", "torch.optim", "torch.optim.lr_scheduler")
# Lightning configs name Lightning's classes; the same names live under runtime
_ALIASES = (("lightning.pytorch.", "runtime."), ("pytorch_lightning.", "runtime."), ("lightning.", "runtime."))


@dataclass
class Param:
    name: str
    annotation: Any = EMPTY
    default: Any = EMPTY  # EMPTY: required
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is EMPTY


def signature_params(obj: Any, skip: typing.Iterable[str] = ()) -> dict[str, Param]:
    """The named parameters of a class's ``__init__`` (or a function), with resolved annotations and docs."""
    fn = obj.__init__ if isinstance(obj, type) else obj
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to what the signature says
        hints = {}
    docs = parse_param_docs(getattr(obj, "__doc__", None) if isinstance(obj, type) else None)
    docs.update(parse_param_docs(getattr(fn, "__doc__", None)))
    params = {}
    for p in sig.parameters.values():
        if p.name in ("self", "cls") or p.name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        params[p.name] = Param(p.name, hints.get(p.name, p.annotation), p.default, docs.get(p.name, ""))
    return params


_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters):\s*$")
_NUMPY_SECTION = re.compile(r"^(\s*)(Parameters|Other Parameters)\s*$")
_ENTRY = re.compile(r"^\**(\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_SPHINX = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def parse_param_docs(doc: str | None) -> dict[str, str]:
    """``{name: description}`` from Google (``Args:``), NumPy (``Parameters\\n----``) or Sphinx (``:param x:``) docstrings."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        sphinx = _SPHINX.match(line)
        if sphinx:
            name, text = sphinx.group(1), [sphinx.group(2).strip()]
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith(":"):
                text.append(lines[i].strip())
                i += 1
            out[name] = " ".join(t for t in text if t)
            continue
        google = _SECTION.match(line)
        numpy = _NUMPY_SECTION.match(line) if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} else None
        if google or numpy:
            base = len((google or numpy).group(1))
            i += 2 if numpy else 1
            entry_indent = None
            name = None
            while i < len(lines):
                cur = lines[i]
                indent = len(cur) - len(cur.lstrip())
                next_is_rule = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
                if cur.strip() and (indent < base or indent == base and (google or next_is_rule or not _numpy_entry(cur))):
                    break
                if not cur.strip():
                    i += 1
                    continue
                if entry_indent is None:
                    entry_indent = indent
                if indent == entry_indent:
                    if numpy:
                        name = cur.split(":")[0].strip().lstrip("*")
                        out[name] = ""
                    else:
                        m = _ENTRY.match(cur.strip())
                        name = m.group(1) if m else None
                        if name:
                            out[name] = m.group(3).strip()
                elif name:
                    out[name] = (out[name] + " " + cur.strip()).strip()
                i += 1
            continue
        i += 1
    return out


def _numpy_entry(line: str) -> bool:
    return bool(re.match(r"^\s*\**\w+\s*(:.*)?$", line))


def short_description(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ") if doc else ""


def import_object(path: str) -> Any:
    """``package.module.Name`` -> the object; raises ImportError/AttributeError with the reason."""
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ImportError(f"{path!r} is not a dotted path")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        # "pkg.mod.Outer.Inner": walk attributes from the longest importable prefix
        outer = import_object(module_name)
        return getattr(outer, attr)
    return getattr(module, attr)


def _all_subclasses(base: type) -> list[type]:
    seen, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _short_candidates(base: type | tuple | None) -> dict[str, type]:
    found: dict[str, type] = {}
    for module_name in SHORT_NAME_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in getattr(module, "__all__", None) or dir(module):
            obj = getattr(module, name, None)
            if isinstance(obj, type) and not name.startswith("_") and (base is None or issubclass(obj, base)):
                found.setdefault(name, obj)
    for b in _bases(base):
        found.setdefault(b.__name__, b)
        for sub in _all_subclasses(b):
            if not sub.__name__.startswith("_"):
                found.setdefault(sub.__name__, sub)
    return found


def _bases(base: type | tuple | None) -> tuple:
    return () if base is None else base if isinstance(base, tuple) else (base,)


def base_name(base: type | tuple | None) -> str:
    return " or ".join(b.__name__ for b in _bases(base))


def resolve_class(name: str, base: type | tuple | None = None) -> type:
    """A class from a dotted path (``runtime.callbacks.EarlyStopping``) or a short name (``EarlyStopping``)."""
    if "." in name:
        for old, new in _ALIASES:
            if name.startswith(old):
                try:
                    return resolve_class(new + name[len(old):], base)
                except ConversionError:
                    break
        try:
            cls = import_object(name)
        except (ImportError, AttributeError) as err:
            raise ConversionError(f"cannot import {name!r} ({err})") from None
    else:
        candidates = _short_candidates(base)
        cls = candidates.get(name)
        if cls is None:
            guess = nearest(name, candidates)
            hint = f"; did you mean {guess!r}?" if guess else "; give the full dotted path (package.module.Class)"
            kind = f" {base_name(base)}" if base is not None else ""
            raise ConversionError(f"no{kind} class named {name!r}{hint}")
    if not isinstance(cls, type):
        raise ConversionError(f"{name!r} is not a class")
    if base is not None and not issubclass(cls, base):
        raise ConversionError(f"{name!r} is not a subclass of {base_name(base)}")
    return cls


def class_path_of(cls: type) -> str:
    """The shortest public dotted path of ``cls`` (``runtime.callbacks.ModelCheckpoint``, not its private module)."""
    for module_name in SHORT_NAME_MODULES:
        module = importlib.import_module(module_name) if module_name.split(".")[0] in ("runtime", "torch") else None
        if module is not None and getattr(module, cls.__name__, None) is cls:
            return f"{module_name}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*$")


def class_spec(value: Any, base: type | tuple | None, skip: typing.Iterable[str] = (), partial: bool = False) -> dict[str, Any]:
    """Check a ``{class_path, init_args}`` mapping (or a bare class name) against ``base`` and the class's ``__init__``.

    Returns the normalised spec with the class's YAML-writable defaults filled in, so a saved config is complete.
    ``partial``: required arguments may still be missing (more command-line values may follow).
    """
    if isinstance(value, str):
        if not _IDENTIFIER.match(value):
            raise ConversionError
        try:
            cls = resolve_class(value, base)
        except ConversionError:
            raise ConversionError from None  # a plain string may be meant for another member of a Union
        value = {"class_path": value}
    if not isinstance(value, dict) or "class_path" not in value:
        raise ConversionError
    unknown = set(value) - {"class_path", "init_args", "dict_kwargs"}
    if unknown:
        raise ConversionError(f"unexpected key {sorted(unknown)[0]!r} next to class_path (allowed: class_path, init_args)")
    cls = resolve_class(str(value["class_path"]), base)
    init_args = value.get("init_args") or {}
    if not isinstance(init_args, dict):
        raise ConversionError(f"init_args of {cls.__name__} must be a mapping, got {init_args!r}")
    return {"class_path": class_path_of(cls), "init_args": check_init_args(cls, init_args, skip, partial)}


def check_init_args(cls: type, init_args: dict[str, Any], skip: typing.Iterable[str] = (), partial: bool = False) -> dict[str, Any]:
    params = signature_params(cls, skip)
    takes_kwargs = _takes_var_kwargs(cls)
    out: dict[str, Any] = {}
    for name, param in params.items():
        if name in init_args:
            try:
                out[name] = convert(init_args[name], param.annotation)
            except ConversionError as err:
                raise ConversionError(err.detail and f"{name}: {err.detail}" or
                                      f"init_args.{name} of {cls.__name__}: expected {_tn(param.annotation)}, got {init_args[name]!r}") from None
        elif param.required and not partial:
            raise ConversionError(f"{cls.__name__} needs init_args.{name} ({_tn(param.annotation)})")
        elif is_plain(param.default):
            out[name] = param.default
    for name in init_args:
        if name not in params:
            if takes_kwargs:
                out[name] = init_args[name]
                continue
            guess = nearest(name, params)
            hint = f"; did you mean {guess!r}?" if guess else f"; it takes {', '.join(params) or 'no arguments'}"
            raise ConversionError(f"init_args.{name}: {cls.__name__} has no such argument{hint}")
    return out


def _tn(ann: Any) -> str:
    from runtime.cli.values import type_name

    return type_name(ann)


def _takes_var_kwargs(cls: type) -> bool:
    try:
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values()) and cls.__init__ is not object.__init__
    except (TypeError, ValueError):
        return False


def instantiate(value: Any) -> Any:
    """Build every ``{class_path, init_args}`` found in ``value`` (recursively); other values pass through."""
    if isinstance(value, dict) and "class_path" in value and set(value) <= {"class_path", "init_args", "dict_kwargs"}:
        cls = resolve_class(str(value["class_path"]))
        return cls(**{k: instantiate(v) for k, v in (value.get("init_args") or {}).items()})
    if isinstance(value, (list, tuple)):
        return type(value)(instantiate(v) for v in value)
    if isinstance(value, dict):
        return {k: instantiate(v) for k, v in value.items()}
    return value
