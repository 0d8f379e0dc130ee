"""Checkpoint IO plugins: how a checkpoint dict reaches the disk (synchronously, or in the background)."""
import os
import queue
import threading
from typing import Any

import torch

from runtime.checkpoint.io import atomic_save, load_checkpoint_file, remove_path
from runtime.utilities.apply_func import apply_to_collection


class CheckpointIO:
    """Saves, loads and removes checkpoint files; the strategy owns one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        raise NotImplementedError

    def load_checkpoint(self, path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
        return load_checkpoint_file(path, map_location=map_location, weights_only=weights_only)

    def remove_checkpoint(self, path: str | os.PathLike) -> None:
        remove_path(path)

    def teardown(self) -> None:
        """Finish pending work (nothing for synchronous IO)."""


def _refuse_storage_options(io: CheckpointIO, storage_options: Any) -> None:
    if storage_options is not None:
        raise TypeError(
            "`Trainer.save_checkpoint(..., storage_options=...)` with `storage_options` arg is not supported for "
            f"`{type(io).__name__}`. Please implement your custom `CheckpointIO` to define how you'd like to use "
            "`storage_options`."
        )


class TorchCheckpointIO(CheckpointIO):
    """``torch.save`` through an atomic rename: the default."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        _refuse_storage_options(self, storage_options)
        atomic_save(checkpoint, path)


class XLACheckpointIO(TorchCheckpointIO):
    """Saves with ``torch_xla``'s ``xm.save`` (tensors on an XLA device are moved to the CPU first, and only
    the main process of the host writes). Needs ``torch_xla``."""

    def __init__(self) -> None:
        import importlib.util

        if importlib.util.find_spec("torch_xla") is None:
            raise ModuleNotFoundError("XLACheckpointIO needs torch_xla: `pip install torch_xla` (on a TPU host).")

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        _refuse_storage_options(self, storage_options)
        import torch_xla.core.xla_model as xm

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        xm.save(checkpoint, os.fspath(path))


class AsyncCheckpointIO(CheckpointIO):
    """Writes checkpoints on a background thread so training does not wait for the disk.

    The tensors are copied on the caller's thread before ``save_checkpoint`` returns, so a later
    optimizer step can never leak into a file being written. Saves and removals run in the order they
    were asked for (a top-k file is only removed after the new one is in place); ``teardown`` waits for
    all of them and raises the first error a background write hit.
    """

    def __init__(self, checkpoint_io: CheckpointIO | None = None) -> None:
        self.checkpoint_io = checkpoint_io or TorchCheckpointIO()
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="checkpoint-writer", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                fn, args = job
                if self._error is None:
                    fn(*args)
            except BaseException as err:  # reported on the training thread by the next call or teardown
                self._error = err
            finally:
                self._queue.task_done()

    def _raise_pending(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise RuntimeError(f"A background checkpoint write failed: {err}") from err

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        self._raise_pending()
        snapshot = apply_to_collection(checkpoint, torch.Tensor, lambda t: t.detach().to("cpu", copy=True))
        self._ensure_thread()
        self._queue.put((self.checkpoint_io.save_checkpoint, (snapshot, path)))

    def remove_checkpoint(self, path: str | os.PathLike) -> None:
        self._raise_pending()
        self._ensure_thread()
        self._queue.put((self.checkpoint_io.remove_checkpoint, (path,)))

    def load_checkpoint(self, path, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
        self.wait()
        return self.checkpoint_io.load_checkpoint(path, map_location=map_location, weights_only=weights_only)

    def wait(self) -> None:
        """Block until every queued save and removal is done."""
        if self._thread is not None:
            self._queue.join()
        self._raise_pending()

    def teardown(self) -> None:
        self.wait()
