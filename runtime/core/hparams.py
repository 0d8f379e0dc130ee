"""``save_hyperparameters``: record the arguments a module or datamodule was built with."""
import copy
import dataclasses
import inspect
from argparse import Namespace
from collections.abc import MutableMapping
from typing import Any, Iterable

from torch import nn

from runtime.utilities.parsing import AttributeDict
from runtime.utilities.rank_zero import rank_zero_warn


_PRIMITIVE_TYPES = (bool, int, float, str)


def _frame_args(frame) -> dict[str, Any]:
    """The named arguments of one ``__init__`` frame (``**kwargs`` spread out; ``self`` and ``*args`` left out)."""
    info = inspect.getargvalues(frame)
    local = {name: info.locals[name] for name in info.args[1:] if name in info.locals}
    if info.keywords:
        local.update(info.locals.get(info.keywords) or {})
    return local


def _init_args(frame) -> dict[str, Any]:
    """The arguments of the chain of ``__init__`` calls on the stack from ``frame`` outwards, as Lightning
    collects them: every consecutive ``__init__`` of a hyperparameter holder (the class's own parents, and a
    module building another inside its ``__init__``), stopping at the first frame that is not one.

    Frames before the first such ``__init__`` are skipped (``save_hyperparameters`` may be called from a
    helper that ``__init__`` calls); outer frames win over inner ones for the same name.
    """
    while frame is not None and not _is_holder_init(frame):
        frame = frame.f_back
    collected: dict[str, Any] = {}
    while frame is not None and _is_holder_init(frame):
        collected.update(_frame_args(frame))
        frame = frame.f_back
    return collected


def _is_holder_init(frame) -> bool:
    return frame.f_code.co_name == "__init__" and isinstance(frame.f_locals.get("self"), HyperparametersMixin)


class HyperparametersMixin:
    __jit_unused_properties__ = ["hparams", "hparams_initial"]
    # where checkpoints keep the hyperparameters (Lightning's keys)
    CHECKPOINT_HYPER_PARAMS_KEY = "hyper_parameters"
    CHECKPOINT_HYPER_PARAMS_NAME = "hparams_name"
    CHECKPOINT_HYPER_PARAMS_TYPE = "hparams_type"

    def save_hyperparameters(self, *args: Any, ignore: str | Iterable[str] | None = None, frame=None, logger: bool = True) -> None:
        """Store ``__init__`` arguments in ``self.hparams`` (and in checkpoints and the logger).

        - no argument: every ``__init__`` argument;
        - names (``"lr", "hidden"``): those arguments;
        - one dict / ``Namespace`` (often an ``__init__`` argument itself): its contents;
        - ``ignore``: names to leave out (also drops what a parent class saved under that name).

        Calls add up: a second call updates ``hparams`` rather than replacing it.

        Example: ``def __init__(self, lr=0.1, hidden=64): super().__init__(); self.save_hyperparameters()``
        """
        self._log_hyperparams = logger
        if len(args) == 1 and not isinstance(args[0], str) and not args[0]:
            return  # an empty container: nothing to save
        if frame is None:
            frame = inspect.currentframe().f_back
        if dataclasses.is_dataclass(self):
            init_args = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        else:
            init_args = _init_args(frame)
        if isinstance(ignore, str):
            ignore = [ignore]
        ignore = {name for name in (ignore or ()) if isinstance(name, str)}
        init_args = {k: v for k, v in init_args.items() if k not in ignore and not k.startswith("__")}
        objects = [a for a in args if not isinstance(a, str)]
        if not args:
            hp: Any = init_args
            self._hparams_name = "kwargs" if hp else None
        elif len(objects) == 1:
            hp = objects[0]
            names = [k for k, v in init_args.items() if v is hp] or [k for k, v in init_args.items() if _same(v, hp)]
            self._hparams_name = names[0] if names else None
        else:
            missing = [a for a in args if isinstance(a, str) and a not in init_args]
            if missing:
                raise ValueError(f"save_hyperparameters(): {missing} are not arguments of __init__ "
                                 f"(those are {sorted(init_args)})")
            hp = {a: init_args[a] for a in args if isinstance(a, str)}
            self._hparams_name = "kwargs"
        self._set_hparams(hp)
        for key in ignore:
            self._hparams.pop(key, None)
        for key, value in self._hparams.items():
            if isinstance(value, nn.Module):
                rank_zero_warn(
                    f"Attribute {key!r} is an instance of `nn.Module` and is already saved during checkpointing."
                    f" It is recommended to ignore them using `self.save_hyperparameters(ignore=[{key!r}])`."
                )
        self._hparams_initial = copy.deepcopy(self._hparams) if _deepcopyable(self._hparams) else copy.copy(self._hparams)

    @staticmethod
    def _to_hparams_dict(hp: Any) -> Any:
        if isinstance(hp, Namespace):
            hp = vars(hp)
        if isinstance(hp, dict):
            return AttributeDict(hp)
        if isinstance(hp, _PRIMITIVE_TYPES):
            raise ValueError(f"Primitives {_PRIMITIVE_TYPES} are not allowed: save_hyperparameters() takes argument "
                             f"names (strings), a dict, a Namespace or a config object, got {hp!r}")
        if not isinstance(hp, MutableMapping):
            raise ValueError(f"Unsupported config type of {type(hp)}: pass a dict, a Namespace or a mapping")
        return hp

    def _set_hparams(self, hp: Any) -> None:
        hp = self._to_hparams_dict(hp)
        if isinstance(hp, dict) and isinstance(self.hparams, dict):
            self.hparams.update(hp)
        else:
            self._hparams = hp
        self._hparams_initial = copy.deepcopy(self._hparams) if _deepcopyable(self._hparams) else copy.copy(self._hparams)

    def remove_ignored_hparams(self, ignore_list: list[str]) -> None:
        """Drop these names from the saved hyperparameters (a subclass dropping what its parent saved)."""
        for key in ignore_list:
            self._hparams.pop(key, None)

    @property
    def hparams(self) -> AttributeDict:
        if not hasattr(self, "_hparams"):
            self._hparams = AttributeDict()
        return self._hparams

    @property
    def hparams_initial(self) -> AttributeDict:
        if not hasattr(self, "_hparams_initial"):
            return AttributeDict()
        return AttributeDict(copy.copy(self._hparams_initial))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # tensors and other objects without a plain truth value
        return False


def _deepcopyable(obj: Any) -> bool:
    try:
        copy.deepcopy(obj)
        return True
    except Exception:
        return False


def load_hparams_file(path: Any) -> dict[str, Any]:
    """Hyperparameters from a ``.yaml`` / ``.yml`` file (safe YAML: plain values only, no tags that build
    objects) or a Lightning tags ``.csv`` (``key,value`` rows), for ``load_from_checkpoint(hparams_file=...)``.

    Example::

        Model.load_from_checkpoint("last.ckpt", hparams_file="lightning_logs/version_0/hparams.yaml")
    """
    import os

    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".yaml", ".yml", ".csv"):
        raise ValueError(f"hparams_file={path!r}: expected a .yaml, .yml or .csv file (as loggers write hparams.yaml).")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"hparams_file={path!r} does not exist. Pass the hparams.yaml a logger wrote, e.g. "
                                "lightning_logs/version_0/hparams.yaml.")
    if extension == ".csv":
        import ast
        import csv

        def value(text: str) -> Any:
            try:
                return ast.literal_eval(text)  # numbers, strings, lists, dicts, None, booleans: never code
            except (ValueError, SyntaxError):
                return text

        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        return {row[0]: value(row[1]) for row in rows[1:] if len(row) >= 2}
    import yaml

    try:
        with open(path) as f:
            loaded = yaml.safe_load(f)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ValueError(f"hparams_file={path!r} is not plain YAML{where}: {problem}. Only plain values (numbers, "
                         "strings, lists, mappings) load; tags that build Python objects are refused.") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"hparams_file={path!r} holds a {type(loaded).__name__}, not a mapping of hyperparameter names to values.")
    return loaded
