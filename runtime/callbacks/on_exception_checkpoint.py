"""OnExceptionCheckpoint: when training raises, save what there is before the error propagates."""
import os

from runtime.callbacks.checkpoint import Checkpoint


class OnExceptionCheckpoint(Checkpoint):
    """Writes ``dirpath/filename.ckpt`` from ``on_exception``; resume from it with ``fit(ckpt_path=...)``.

    Example: ``Trainer(callbacks=[OnExceptionCheckpoint("checkpoints")])``
    """

    FILE_EXTENSION = ".ckpt"

    def __init__(self, dirpath: str | os.PathLike, filename: str = "on_exception") -> None:
        super().__init__()
        if not filename:
            raise ValueError("OnExceptionCheckpoint needs a non-empty filename.")
        self.dirpath = os.fspath(dirpath)
        self.filename = filename

    @property
    def ckpt_path(self) -> str:
        return os.path.join(self.dirpath, self.filename + self.FILE_EXTENSION)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if trainer.state.fn is not None and trainer.state.fn.value == "fit":
            trainer.save_checkpoint(self.ckpt_path)
