"""Write checkpoints atomically and read them safely, with one clear error per problem.

A checkpoint is written to a temporary file in the target folder, flushed and fsynced, then renamed
over the target: a crash mid-write leaves the previous file intact, never a truncated one.

Reading uses ``torch.load(weights_only=True)``: tensors, numbers, strings and containers only, so a
file cannot run code when it is opened. Everything the runtime writes loads that way. A file that
needs more (a pickled class of the user's) is refused with a message on how to opt in for a file
you trust.
"""
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from runtime.core.hparams import AttributeDict


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` so that readers only ever see the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _legacy_attribute_dict(module: str) -> type:
    """A stand-in for Lightning's ``AttributeDict`` class at ``module``, so Lightning's checkpoints load
    with ``weights_only=True`` (and without Lightning installed)."""
    return type("AttributeDict", (AttributeDict,), {"__module__": module, "__qualname__": "AttributeDict"})


_SAFE_GLOBALS = [
    _legacy_attribute_dict("lightning.fabric.utilities.data"),
    _legacy_attribute_dict("lightning_fabric.utilities.data"),
    _legacy_attribute_dict("pytorch_lightning.utilities.parsing"),
    AttributeDict,
]


def remove_path(path: str | os.PathLike) -> None:
    """Remove a checkpoint file, a link to one, or a sharded checkpoint's folder; nothing if it is not there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def load_checkpoint_file(path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
    """Load a checkpoint dict from ``path``.

    ``weights_only=True`` (the default) refuses pickled code; pass ``weights_only=False`` only for a
    file you trust. Missing, truncated, corrupt and unsafe files each raise one error naming the file.
    """
    path = Path(path)
    if path.is_dir():
        from runtime.checkpoint import sharded

        if sharded.is_sharded(path):
            return sharded.consolidate(str(path), map_location=map_location, weights_only=weights_only)
        raise CorruptCheckpointError(f"Checkpoint {path} is a folder but not a sharded checkpoint (no .metadata in it). "
                                     "Pass the path of a .ckpt file or of a sharded checkpoint folder.")
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint not found: {path}. Pass the path of an existing .ckpt file.")
    weights_only = True if weights_only is None else weights_only
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            checkpoint = torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as err:
        lines = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
        unsafe = [line for line in lines if "global" in line.lower() or "reduce" in line.lower()]
        detail = (unsafe or [line for line in lines if "WeightsUnpickler" in line] or lines or [""])[0]
        detail = detail.replace("WeightsUnpickler error:", "").strip()
        if weights_only and unsafe:
            raise UnsafeCheckpointError(
                f"Checkpoint {path} holds pickled objects that could run code when loaded ({detail}); it was not "
                "loaded. If you trust this file, load it with `weights_only=False` (e.g. "
                "`Model.load_from_checkpoint(path, weights_only=False)` or `trainer.fit(model, ckpt_path=path, "
                "weights_only=False)`)."
            ) from None
        raise CorruptCheckpointError(f"Checkpoint {path} could not be read: the file is truncated, corrupt or not a checkpoint ({detail}).") from None
    except Exception as err:  # the unpickler fails in many ways on damaged bytes; all mean the same to the user
        raise CorruptCheckpointError(
            f"Checkpoint {path} could not be read: the file is truncated, corrupt or not a checkpoint "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'})."
        ) from None
    if not isinstance(checkpoint, dict):
        raise CorruptCheckpointError(f"Checkpoint {path} holds a {type(checkpoint).__name__}, not a checkpoint dict.")
    return checkpoint


class CorruptCheckpointError(RuntimeError):
    """The file is truncated, damaged, or not a checkpoint."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The file needs arbitrary unpickling, refused unless the caller opts in with ``weights_only=False``."""
