"""OnExceptionCheckpoint: when training raises, save what there is before the error propagates."""
import os
import warnings

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

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit" and trainer.is_global_zero:  # an earlier run's write, killed half-way
            from runtime.checkpoint.io import remove_stale_temporaries

            remove_stale_temporaries(self.dirpath)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if trainer.state.fn is None or trainer.state.fn.value != "fit":
            return
        if trainer.world_size == 1:
            trainer.save_checkpoint(self.ckpt_path)
            return
        # several processes: the others are not here (they are in a step, or being stopped), so nothing
        # that needs them may run: no barrier, no gather
        if trainer.strategy.checkpoint_needs_all_ranks:
            warnings.warn(f"OnExceptionCheckpoint: {self.ckpt_path} was not written. Under {type(trainer.strategy).__name__} "
                          "a checkpoint needs every process, and only this one stopped with an error.")
            return
        # every rank holds the whole model: the one that failed writes the file itself (atomically)
        trainer.strategy.checkpoint_io.save_checkpoint(trainer._dump_checkpoint(), self.ckpt_path)
        trainer.strategy.checkpoint_io.teardown()
