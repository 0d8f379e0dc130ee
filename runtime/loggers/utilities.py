"""What the experiment trackers share: importing their client (with the extra that installs it), which
checkpoints to upload, and hyperparameters made JSON-friendly (Lightning's ``loggers/utilities.py``)."""
import importlib
import json
from pathlib import Path
from typing import Any


def _import_client(module: str, extra: str, what: str) -> Any:
    """``import module``, or one error naming the pip extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if err.name is not None and err.name.split(".")[0] != module.split(".")[0]:
            raise  # the client is there, but something it imports is broken: show that
        raise ModuleNotFoundError(
            f"{what} needs the `{module.split('.')[0]}` package, which is not installed. "
            f'Install it with `pip install "kindling[{extra}]"` (or `pip install {extra}`).'
        ) from err


def _version(loggers: list[Any], separator: str = "_") -> int | str:
    if len(loggers) == 1:
        return loggers[0].version
    return separator.join(dict.fromkeys(str(logger.version) for logger in loggers))


def _scan_checkpoints(checkpoint_callback: Any, logged_model_time: dict[str, float]) -> list[tuple[float, str, Any, str]]:
    """The checkpoints of ``checkpoint_callback`` not uploaded yet (or rewritten since): (mtime, path, score, tag)."""
    checkpoints: dict[str, tuple[Any, str]] = {}
    if getattr(checkpoint_callback, "last_model_path", None):
        checkpoints[checkpoint_callback.last_model_path] = (getattr(checkpoint_callback, "current_score", None), "latest")
    if getattr(checkpoint_callback, "best_model_path", None):
        checkpoints[checkpoint_callback.best_model_path] = (checkpoint_callback.best_model_score, "best")
    for path, score in (getattr(checkpoint_callback, "best_k_models", None) or {}).items():
        checkpoints[path] = (score, "best_k")
    found = sorted((Path(p).stat().st_mtime, p, s, tag) for p, (s, tag) in checkpoints.items() if Path(p).is_file())
    return [c for c in found if c[1] not in logged_model_time or logged_model_time[c[1]] < c[0]]


def _checkpoint_metadata(checkpoint_callback: Any, path: str, score: Any) -> dict[str, Any]:
    """What a tracker stores beside an uploaded checkpoint: its score, file name and the callback's settings."""
    keys = ("monitor", "mode", "save_last", "save_top_k", "save_weights_only", "_every_n_train_steps")
    return {
        "score": score.item() if hasattr(score, "item") else score,
        "original_filename": Path(path).name,
        type(checkpoint_callback).__name__: {k: getattr(checkpoint_callback, k) for k in keys if hasattr(checkpoint_callback, k)},
    }


def _sanitize_callable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Callables (a class, a function) logged by name; a callable that takes no argument and returns a value, by it."""
    def sanitize(value: Any) -> Any:
        if isinstance(value, type) or callable(value) and hasattr(value, "__name__"):
            return getattr(value, "__name__", str(value))
        return value

    return {k: sanitize(v) for k, v in params.items()}


def _convert_json_serializable(params: dict[str, Any]) -> dict[str, Any]:
    """Values json cannot write become their ``str`` (a tensor, a path, a dataclass)."""
    def convert(value: Any) -> Any:
        try:
            json.dumps(value)
            return value
        except (TypeError, ValueError, OverflowError):
            if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
                return value.item()
            return str(value)

    return {k: convert(v) for k, v in params.items()}
