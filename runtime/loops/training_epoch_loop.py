"""``trainer.fit_loop.epoch_loop``: a view of the training epoch."""
from typing import Any

from runtime.loops.evaluation_loop import _EvaluationLoop
from runtime.loops.loop import _Loop
from runtime.loops.progress import _BatchProgress, _tracker

__all__ = ["_TrainingEpochLoop"]


class _TrainingEpochLoop(_Loop):
    def __init__(self, trainer: Any) -> None:
        super().__init__(trainer)
        self.val_loop = _EvaluationLoop(trainer, "val", verbose=False)

    @property
    def min_steps(self) -> int | None:
        return self.trainer.min_steps

    @property
    def max_steps(self) -> int:
        return self.trainer.max_steps

    @max_steps.setter
    def max_steps(self, value: int) -> None:
        self.trainer.max_steps = value

    @property
    def global_step(self) -> int:
        return self.trainer.global_step

    @property
    def batch_progress(self) -> _BatchProgress:
        saved = self.trainer.fit_loop.state_dict()["epoch_loop.batch_progress"]
        return _BatchProgress(total=_tracker(**saved["total"]), current=_tracker(**saved["current"]),
                              is_last_batch=self.trainer.is_last_batch)

    @property
    def batch_idx(self) -> int:
        """The index of the batch running in this epoch (the last one, between batches)."""
        return self.trainer._progress.epoch_batch_idx - 1

    @property
    def total_batch_idx(self) -> int:
        return self.trainer._progress.total_batch_idx - 1

    @property
    def _batches_that_stepped(self) -> int:
        return self.trainer._progress.batches_that_stepped

    def _get_monitor_value(self, key: str) -> Any:
        """The logged value a ``ReduceLROnPlateau`` scheduler monitoring ``key`` steps on (None when not logged)."""
        return self.trainer.callback_metrics.get(key)

    @property
    def done(self) -> bool:
        return bool(self.trainer._progress.epoch_done)
