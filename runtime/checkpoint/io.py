"""A checkpoint at a path, whether one file or a sharded folder: ``load_checkpoint_file`` is the loader the
runtime calls; the file-level work (atomic writes, safe reads, integrity) is in ``files.py``, the folders'
in ``sharded.py``, and both are importable from here under their usual names."""
import os
from pathlib import Path
from typing import Any

from runtime.checkpoint.files import (  # noqa: F401  (this module's public names since before the split)
    CheckpointWriteError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    atomic_save,
    check_writable_folder,
    damaged_entries,
    load_file,
    remove_path,
    remove_stale_temporaries,
)


def load_checkpoint_file(path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
    """Load a checkpoint dict from ``path``, a checkpoint file or a sharded checkpoint folder (consolidated).

    ``weights_only=True`` (the default) refuses pickled code; pass ``weights_only=False`` only for a
    file you trust. Missing, truncated, corrupt and unsafe files each raise one error naming the file.
    """
    path = Path(path)
    if path.is_dir():
        from runtime.checkpoint import sharded  # torch.distributed.checkpoint only when a folder is read

        if sharded.is_sharded(path):
            return sharded.consolidate(str(path), map_location=map_location, weights_only=weights_only)
        if (path / "latest").is_file():  # DeepSpeed's engine wrote it (DeepSpeedStrategy)
            raise CorruptCheckpointError(
                f"Checkpoint {path} is a DeepSpeed checkpoint folder: resume or evaluate it with strategy='deepspeed' (the "
                "stage it was saved with), or write it as one file that loads anywhere: `from runtime.utilities.deepspeed "
                f"import convert_zero_checkpoint_to_fp32_state_dict; convert_zero_checkpoint_to_fp32_state_dict({str(path)!r}, "
                "'model.ckpt')`."
            )
        raise CorruptCheckpointError(f"Checkpoint {path} is a folder but not a sharded checkpoint (no .metadata in it). "
                                     "Pass the path of a .ckpt file or of a sharded checkpoint folder.")
    return load_file(path, map_location=map_location, weights_only=weights_only)
