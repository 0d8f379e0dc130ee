"""Turn a config value into what a parameter's annotation asks for, or say exactly why not.

Values come from YAML files (already typed) or from the command line (a string, read as YAML first,
like LightningCLI does; ``raw`` keeps the text so ``str`` parameters get exactly what was typed).
"""
import collections.abc
import enum
import inspect
import os
import pathlib
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

EMPTY = inspect.Parameter.empty
NoneType = type(None)
_UNIONS = (Union, types.UnionType)
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable,
              collections.abc.Collection, set, frozenset, collections.abc.Set)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


class ConversionError(ValueError):
    """The value does not fit the annotation. ``detail`` (when set) is a precise reason worth showing as is."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "")
        self.detail = detail


def is_any(ann: Any) -> bool:
    return ann is EMPTY or ann is Any or isinstance(ann, (str, typing.ForwardRef, typing.TypeVar))


def type_name(ann: Any) -> str:
    """``int | None``, ``list[float]``, ``Literal['a', 'b']``: how an annotation reads in help and errors."""
    if is_any(ann):
        return "Any"
    if ann is NoneType or ann is None:
        return "None"
    origin = get_origin(ann)
    if origin is typing.Annotated:
        return type_name(get_args(ann)[0])
    if origin in _UNIONS:
        return " | ".join(type_name(a) for a in get_args(ann))
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in get_args(ann))}]"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        args = get_args(ann)
        return f"{name}[{', '.join('...' if a is Ellipsis else type_name(a) for a in args)}]" if args else name
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace("typing.", "")


def is_class_type(ann: Any) -> bool:
    """A user-facing class (Callback, Logger, nn.Module ...) that a config names by ``class_path``."""
    return (isinstance(ann, type) and get_origin(ann) is None and ann.__module__ not in ("builtins", "datetime", "typing")
            and not issubclass(ann, (enum.Enum, pathlib.PurePath)) and ann not in (os.PathLike,))


def convert(value: Any, ann: Any, raw: str | None = None) -> Any:
    """Return ``value`` as ``ann`` wants it (``raw``: the command-line text it was read from), else raise ConversionError."""
    if is_any(ann):
        return value
    origin = get_origin(ann)
    if origin is typing.Annotated:
        return convert(value, get_args(ann)[0], raw)
    if origin in _UNIONS:
        return _convert_union(value, get_args(ann), raw)
    if ann is NoneType or ann is None:
        if value is None or isinstance(value, str) and value.lower() in ("null", "none"):
            return None
        raise ConversionError
    if origin is Literal:
        for choice in get_args(ann):
            if value == choice and type(value) is type(choice) or raw is not None and raw == str(choice):
                return choice
        raise ConversionError
    if ann is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ConversionError
    if ann is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConversionError
    if ann is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # PyYAML reads "1e-3" as a string
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ConversionError
    if ann is str:
        if raw is not None:
            return raw
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConversionError
    if ann is os.PathLike or isinstance(ann, type) and issubclass(ann, pathlib.PurePath):
        if isinstance(value, (str, os.PathLike)) and str(value):
            cls = ann if isinstance(ann, type) and issubclass(ann, pathlib.PurePath) else pathlib.Path
            return cls(raw if raw is not None else value)
        raise ConversionError
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        if isinstance(value, ann):
            return value
        for member in ann:
            if value == member.name or value == member.value or raw is not None and raw in (member.name, str(member.value)):
                return member
        raise ConversionError
    if origin is tuple or ann is tuple:
        return _convert_tuple(value, get_args(ann))
    if origin in _SEQUENCES or ann in (list, set, frozenset):
        if not isinstance(value, (list, tuple, set, frozenset)):
            raise ConversionError
        args = get_args(ann)
        items = [convert(v, args[0]) if args else v for v in value]
        return set(items) if origin in (set, frozenset, collections.abc.Set) or ann in (set, frozenset) else items
    if origin in _MAPPINGS or ann is dict:
        if not isinstance(value, collections.abc.Mapping):
            raise ConversionError
        args = get_args(ann) or (Any, Any)
        return {convert(k, args[0], k if isinstance(k, str) and args[0] is not str else None): convert(v, args[1])
                for k, v in value.items()}
    if origin is not None:  # Callable[...], Type[...] and friends: not checked
        return value
    if isinstance(ann, type):
        if isinstance(value, ann):
            return value
        if is_class_type(ann):
            from runtime.cli.classes import class_spec

            return class_spec(value, ann)
    raise ConversionError


def _convert_union(value: Any, members: tuple, raw: str | None) -> Any:
    # None first (so "null" is None), str last (so "3" is 3 when both fit)
    # a value whose own type is a member keeps it: `seed_everything: 1` under `bool | int` is the int 1, not True
    exact = [m for m in members if isinstance(m, type) and type(value) is m]
    ordered = exact + sorted((m for m in members if m not in exact), key=lambda m: 0 if m is NoneType else 2 if m is str else 1)
    hard: ConversionError | None = None
    for member in ordered:
        try:
            return convert(value, member, raw)
        except ConversionError as err:
            hard = hard or (err if err.detail else None)
    raise hard or ConversionError


def _convert_tuple(value: Any, args: tuple) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise ConversionError
    if not args:
        return tuple(value)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(convert(v, args[0]) for v in value)
    if len(args) != len(value):
        raise ConversionError
    return tuple(convert(v, a) for v, a in zip(value, args))


def to_plain(value: Any) -> Any:
    """What YAML can write: tuples and sets become lists, paths strings, enums their names."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def is_plain(value: Any) -> bool:
    """Whether ``value`` survives a YAML round trip (so it can be shown as a default in a config)."""
    if value is None or isinstance(value, (bool, int, float, str, enum.Enum, pathlib.PurePath)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    return False
