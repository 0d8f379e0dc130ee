"""``save_hyperparameters``: record the arguments a module or datamodule was built with."""
import copy
import inspect
from argparse import Namespace
from typing import Any, Iterable

from runtime.utilities.parsing import AttributeDict


def _init_args(frame) -> dict[str, Any]:
    """The arguments of every ``__init__`` frame from ``frame`` up the chain of the same ``self``."""
    collected: dict[str, Any] = {}
    self_obj = frame.f_locals.get("self")
    while frame is not None and frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is self_obj:
        info = inspect.getargvalues(frame)
        local = {}
        for name in info.args[1:]:
            local[name] = info.locals[name]
        if info.keywords:
            local.update(info.locals.get(info.keywords) or {})
        if info.varargs and info.locals.get(info.varargs):
            local[info.varargs] = info.locals[info.varargs]
        # outer (subclass) frames win over the parent's values of the same name
        collected = {**local, **collected}
        frame = frame.f_back
    return collected


class HyperparametersMixin:
    __jit_unused_properties__ = ["hparams", "hparams_initial"]

    def save_hyperparameters(self, *args: Any, ignore: str | Iterable[str] | None = None, frame=None, logger: bool = True) -> None:
        """Store the ``__init__`` arguments (all, or the ones named) in ``self.hparams`` and checkpoints.

        Example: ``def __init__(self, lr=0.1, hidden=64): super().__init__(); self.save_hyperparameters()``
        """
        self._log_hyperparams = logger
        if len(args) == 1 and not isinstance(args[0], str):
            hp = args[0]
            if isinstance(hp, Namespace):
                hp = vars(hp)
            if not isinstance(hp, dict):
                raise ValueError(f"save_hyperparameters() takes argument names, a dict or a Namespace, got {type(hp).__name__}")
            self._set_hparams(dict(hp))
            return
        if frame is None:
            frame = inspect.currentframe().f_back
        init_args = _init_args(frame)
        if isinstance(ignore, str):
            ignore = [ignore]
        ignore = set(ignore or ())
        if args:
            missing = [a for a in args if a not in init_args]
            if missing:
                raise ValueError(f"save_hyperparameters(): {missing} are not arguments of __init__ (those are {sorted(init_args)})")
            init_args = {k: init_args[k] for k in args}
        hp = {k: v for k, v in init_args.items() if k not in ignore and not k.startswith("__")}
        self._hparams_name = "kwargs" if hp else None
        self._set_hparams(hp)

    def _set_hparams(self, hp: dict[str, Any]) -> None:
        self._hparams = AttributeDict(hp)
        self._hparams_initial = copy.deepcopy(self._hparams) if _deepcopyable(hp) else AttributeDict(hp)

    @property
    def hparams(self) -> AttributeDict:
        if not hasattr(self, "_hparams"):
            self._hparams = AttributeDict()
        return self._hparams

    @property
    def hparams_initial(self) -> AttributeDict:
        if not hasattr(self, "_hparams_initial"):
            return AttributeDict()
        return copy.copy(self._hparams_initial)


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
