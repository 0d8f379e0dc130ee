"""``trainer.fit_loop``: a view of fitting, with Lightning's attributes (``max_epochs``, ``epoch_progress``,
``epoch_loop``, ``setup_data()`` ...)."""
from typing import Any

from runtime.loops.loop import _Loop
from runtime.loops.progress import _Progress, _tracker
from runtime.loops.training_epoch_loop import _TrainingEpochLoop

__all__ = ["_FitLoop"]


class _FitLoop(_Loop):
    """``trainer.fit_loop.max_epochs = 5`` then ``trainer.fit(model, ckpt_path=...)`` trains on to epoch 5."""

    def __init__(self, trainer: Any) -> None:
        super().__init__(trainer)
        self.epoch_loop = _TrainingEpochLoop(trainer)

    @property
    def max_epochs(self) -> int:
        return self.trainer.max_epochs

    @max_epochs.setter
    def max_epochs(self, value: int) -> None:
        self.trainer.max_epochs = value

    @property
    def min_epochs(self) -> int | None:
        return self.trainer.min_epochs

    @min_epochs.setter
    def min_epochs(self, value: int | None) -> None:
        self.trainer.min_epochs = value

    @property
    def max_steps(self) -> int:
        return self.trainer.max_steps

    @max_steps.setter
    def max_steps(self, value: int) -> None:
        self.trainer.max_steps = value

    @property
    def min_steps(self) -> int | None:
        return self.trainer.min_steps

    @property
    def max_batches(self) -> float:
        return self.trainer.num_training_batches

    @property
    def epoch_progress(self) -> _Progress:
        counts = _tracker(**self.state_dict()["epoch_progress"]["current"])
        return _Progress(total=counts, current=counts)

    @property
    def total_batch_idx(self) -> int:
        return self.epoch_loop.total_batch_idx

    @property
    def batch_idx(self) -> int:
        return self.epoch_loop.batch_idx

    @property
    def done(self) -> bool:
        """Whether fitting has nothing left to do: a step or epoch limit is reached, or a stop was asked for."""
        t = self.trainer
        if t.max_steps != -1 and t.global_step >= t.max_steps:
            return True
        if t.max_epochs not in (-1, None) and t.current_epoch >= t.max_epochs:
            return True
        return bool(t.should_stop)

    def setup_data(self) -> None:
        """Build the training dataloader now (and its batch count), as the fit does when it starts."""
        from runtime.trainer import data as data_utils

        data_utils.train_loader(self.trainer, self.trainer._run)

    def state_dict(self) -> dict[str, Any]:
        """The ``loops["fit_loop"]`` entry a checkpoint saved now would hold (Lightning's layout)."""
        from runtime.checkpoint.compat import lightning_loops

        progress = vars(self.trainer._progress)
        automatic = self.trainer.lightning_module is None or self.trainer.lightning_module.automatic_optimization
        return lightning_loops(progress, automatic)["fit_loop"]
