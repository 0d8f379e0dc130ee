"""File access by path or URL: ``get_filesystem`` (fsspec, imported when used) and checkpoint load / save."""
import os
from pathlib import Path
from typing import Any, IO

__all__ = ["atomic_save", "get_filesystem", "is_remote"]


def is_remote(path: Any) -> bool:
    """``s3://...``, ``memory://...``: a location fsspec reaches (``file://`` and plain paths are local)."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    return "://" in text and not text.startswith("file://")


def get_filesystem(path: Any, **kwargs: Any) -> Any:
    """The fsspec filesystem for ``path`` (``s3://...``, a local path, ...)."""
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ImportError:
        raise ModuleNotFoundError("get_filesystem needs fsspec: `pip install fsspec`") from None
    fs, _ = url_to_fs(str(path), **kwargs)
    return fs


def _load(path_or_url: IO | str | Path, map_location: Any = None, weights_only: bool | None = None) -> Any:
    """A checkpoint from a path, URL or open file, loaded without running code from it."""
    # the checkpoint layer owns safe loading; imported here so `runtime.utilities` stays light
    from runtime.checkpoint.io import load_checkpoint_file

    if not isinstance(path_or_url, (str, Path)):
        import torch

        return torch.load(path_or_url, map_location=map_location, weights_only=True)
    if str(path_or_url).startswith(("http://", "https://")):
        import torch

        return torch.hub.load_state_dict_from_url(str(path_or_url), map_location=map_location, weights_only=True)
    return load_checkpoint_file(path_or_url, map_location=map_location)


def atomic_save(checkpoint: dict[str, Any], filepath: str | os.PathLike) -> None:
    """Write ``checkpoint`` to ``filepath`` so a crash leaves either the old file or the new one."""
    from runtime.checkpoint.io import atomic_save as _atomic_save

    _atomic_save(checkpoint, filepath)


_atomic_save = atomic_save
