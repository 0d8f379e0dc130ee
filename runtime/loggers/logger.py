"""The Logger base class and the small helpers every logger shares.

A logger receives plain numbers: the trainer hands it a dict of name -> float or 0-dim tensor and the
logger reads tensors to the host itself (``.item()``), so a value is read only when it is written.
"""
import functools
import os
from abc import ABC, abstractmethod
from argparse import Namespace
from collections.abc import Mapping, MutableMapping
from enum import Enum
from typing import Any, Callable

from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn


class Logger(ABC):
    """Base class for experiment loggers (Lightning's ``Logger``).

    Subclasses implement ``name``, ``version``, ``log_metrics`` and ``log_hyperparams``; everything
    else has a sensible default.

    Example::

        class PrintLogger(Logger):
            name = "print"
            version = 0
            @rank_zero_only
            def log_metrics(self, metrics, step=None):
                print(step, metrics)
            @rank_zero_only
            def log_hyperparams(self, params, *args, **kwargs):
                print(params)
    """

    @property
    @abstractmethod
    def name(self) -> str | None:
        """Name of the experiment (a folder under ``save_dir`` for file-based loggers)."""

    @property
    @abstractmethod
    def version(self) -> int | str | None:
        """Version of the experiment (``version_N`` folders for file-based loggers)."""

    @property
    def root_dir(self) -> str | None:
        """Folder holding all versions of this experiment, or None when the logger writes no files."""
        return None

    @property
    def log_dir(self) -> str | None:
        """Folder of this run's files, or None when the logger writes no files."""
        return None

    @property
    def save_dir(self) -> str | None:
        """Folder the logger was asked to write under, or None."""
        return None

    @property
    def group_separator(self) -> str:
        """Separator used by loggers that group metrics by name (``train/loss``)."""
        return "/"

    @abstractmethod
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record ``metrics`` (name -> float or 0-dim tensor) at ``step``."""

    @abstractmethod
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        """Record the run's hyperparameters."""

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Record the model's computational graph; loggers that cannot do that ignore it."""

    def save(self) -> None:
        """Flush what is buffered to storage."""

    def finalize(self, status: str) -> None:
        """Called once at the end of a run (``status`` is "success", "failed" or "interrupted")."""
        self.save()

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Called after a checkpoint callback wrote a file (loggers that upload checkpoints hook in here)."""


class DummyExperiment:
    """Stands in for the experiment object on ranks other than zero: every call does nothing."""

    def nop(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, _: str) -> Callable:
        return self.nop

    def __getitem__(self, idx: int) -> "DummyExperiment":
        return self

    def __setitem__(self, *args: Any, **kwargs: Any) -> None:
        pass


def rank_zero_experiment(fn: Callable) -> Callable:
    """Decorate a logger's ``experiment`` property so other ranks get a do-nothing ``DummyExperiment``."""

    @functools.wraps(fn)
    def experiment(self: Any) -> Any:
        if rank_zero_only.rank > 0:
            return DummyExperiment()
        return fn(self)

    return experiment


class DummyLogger(Logger):
    """A logger that does nothing (used when logging is turned off but code asks for a logger)."""

    def __init__(self) -> None:
        self._experiment = DummyExperiment()

    @property
    def experiment(self) -> DummyExperiment:
        return self._experiment

    @property
    def name(self) -> str:
        return ""

    @property
    def version(self) -> str:
        return ""

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def __getitem__(self, idx: int) -> "DummyLogger":
        return self

    def __getattr__(self, name: str) -> Callable:
        if name.startswith("__"):  # copy / pickle probe dunders: answer honestly
            raise AttributeError(name)

        def method(*args: Any, **kwargs: Any) -> None:
            return None

        return method


# ---------------------------------------------------------------------------------------------------
# helpers shared by the loggers (Lightning's names, so custom loggers written for Lightning find them)


def _to_float(value: Any) -> Any:
    """A logged value as a python number: 0-dim tensors and numpy scalars are read to the host here."""
    item = getattr(value, "item", None)
    if item is not None and callable(item):
        return item()
    return value


def _add_prefix(metrics: Mapping[str, Any], prefix: str, separator: str) -> dict[str, Any]:
    """``{"loss": 1}`` with prefix "train" and separator "-" -> ``{"train-loss": 1}``."""
    if not prefix:
        return dict(metrics)
    return {f"{prefix}{separator}{k}": v for k, v in metrics.items()}


def _convert_params(params: Any) -> dict[str, Any]:
    """Hyperparameters as a plain dict (from a dict, an ``AttributeDict`` or an ``argparse.Namespace``)."""
    if params is None:
        return {}
    if isinstance(params, Namespace):
        return dict(vars(params))
    return dict(params)


def _flatten_dict(params: MutableMapping[Any, Any], delimiter: str = "/", parent_key: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}``; namespaces count as dicts."""
    result: dict[str, Any] = {}
    for k, v in params.items():
        key = f"{parent_key}{delimiter}{k}" if parent_key else str(k)
        if isinstance(v, Namespace):
            v = vars(v)
        if isinstance(v, MutableMapping) and v:
            result.update(_flatten_dict(v, delimiter, key))
        else:
            result[key] = v
    return result


def _sanitize_params(params: dict[str, Any]) -> dict[str, Any]:
    """Values a TensorBoard hparams entry accepts: numbers, strings, bools; anything else as ``str``."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        v = _to_float(v) if hasattr(v, "item") and getattr(v, "ndim", 1) == 0 else v
        if isinstance(v, (bool, int, float, str)):
            out[k] = v
        elif v is None:
            out[k] = "None"
        else:
            out[k] = str(v)
    return out


def _yaml_safe(value: Any) -> Any:
    """A value yaml.safe_dump can write: containers recursed, tensors read, the rest as ``str``."""
    if isinstance(value, Namespace):
        value = vars(value)
    if isinstance(value, Enum):  # a str/int Enum would pass the checks below, and yaml cannot write it
        return value.name
    if isinstance(value, Mapping):
        return {str(k): _yaml_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_yaml_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def save_hparams_to_yaml(config_yaml: str, hparams: Mapping[str, Any] | Namespace) -> None:
    """Write ``hparams`` to ``config_yaml``; values yaml cannot represent are written as strings."""
    import yaml  # lazy: only needed when a run has hyperparameters to write

    params = _convert_params(hparams)
    safe = {}
    for k, v in params.items():
        try:
            safe[str(k)] = _yaml_safe(v)
        except Exception:  # an object whose str() fails: skip it, say so
            rank_zero_warn(f"Skipping hyperparameter {k!r}: it cannot be written to {config_yaml}")
    from runtime.utilities.cloud_io import get_filesystem, is_remote

    if is_remote(config_yaml):  # s3://..., through fsspec
        fs = get_filesystem(config_yaml)
        fs.makedirs(os.path.dirname(config_yaml), exist_ok=True)
        with fs.open(config_yaml, "w", newline="") as fp:
            yaml.safe_dump(safe, fp, sort_keys=False)
        return
    os.makedirs(os.path.dirname(config_yaml) or ".", exist_ok=True)
    with open(config_yaml, "w", newline="") as fp:
        yaml.safe_dump(safe, fp, sort_keys=False)


def _claim_version(root_dir: str) -> int:
    """The next free ``version_N`` under ``root_dir``, claimed by creating its folder: ``os.mkdir`` succeeds for
    one process only, so runs started at the same time in one folder each get their own version. Ranks other
    than zero only look (they take rank zero's version when the strategy starts); one ``listdir`` per run."""
    if rank_zero_only.rank != 0:
        return _next_version(root_dir)
    os.makedirs(root_dir, exist_ok=True)
    version = _next_version(root_dir)
    while True:
        try:
            os.mkdir(os.path.join(root_dir, f"version_{version}"))
            return version
        except FileExistsError:  # another run claimed it first (or a file has that name): take the next
            version = max(version + 1, _next_version(root_dir))


def _next_version(root_dir: str) -> int:
    """The next free ``version_N`` number under ``root_dir`` (0 when there is none)."""
    try:
        names = os.listdir(root_dir)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    versions = []
    for name in names:
        if name.startswith("version_") and os.path.isdir(os.path.join(root_dir, name)):
            tail = name[len("version_"):]
            if tail.isdigit():
                versions.append(int(tail))
    return max(versions) + 1 if versions else 0
