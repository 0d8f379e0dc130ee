"""Write checkpoints atomically and read them with clear errors.

A checkpoint is written to a temporary file in the target folder, flushed and fsynced, then renamed
over the target: a crash mid-write leaves the previous file intact, never a truncated one.
"""
import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
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


def load_checkpoint_file(path: str | os.PathLike, map_location: Any = None) -> dict[str, Any]:
    """Load a checkpoint dict; a missing or unreadable file raises one error that says which and why."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint not found: {path}. Pass the path of an existing .ckpt file.")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:
        raise RuntimeError(f"Checkpoint {path} could not be read ({type(err).__name__}: {err}); the file is corrupt or not a checkpoint.") from err
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f"Checkpoint {path} holds a {type(checkpoint).__name__}, not a checkpoint dict.")
    return checkpoint
