"""Timer: measure time spent in training, validation and test, and stop training after a duration."""
import logging
import time
from datetime import timedelta
from typing import Any

from runtime.callbacks.callback import Callback
from runtime.utilities.duration import parse_duration
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_info

log = logging.getLogger(__name__)

_INTERVALS = ("step", "epoch")
# RunningStage values; plain strings so this module does not import the trainer package
_STAGES = ("train", "sanity_check", "validate", "test", "predict")
_TRAIN = "train"


def _stage(stage: Any) -> str:
    value = getattr(stage, "value", stage)
    if value not in _STAGES:
        raise MisconfigurationException(f"Timer: unknown stage {stage!r}; use one of {', '.join(_STAGES)}.")
    return value


def _parse_duration(duration: Any) -> float | None:
    return parse_duration(duration, "Timer(duration)")


class Timer(Callback):
    """Track elapsed time per stage; with ``duration`` set, signal the trainer to stop once it has passed.

    Args:
        duration: "DD:HH:MM:SS", a ``datetime.timedelta`` or a dict such as ``dict(minutes=30)``.
        interval: check the time after every training batch ("step") or every epoch ("epoch").
        verbose: log when the limit is reached.

    Example::

        timer = Timer(duration="00:00:10:00")
        Trainer(callbacks=[timer]).fit(model)
        timer.time_elapsed("train"); timer.time_remaining()
    """

    def __init__(self, duration: str | timedelta | dict[str, int] | None = None, interval: str = "step", verbose: bool = True) -> None:
        super().__init__()
        interval = getattr(interval, "value", interval)
        if interval not in _INTERVALS:
            raise MisconfigurationException(
                f"Unsupported parameter value `Timer(interval={interval!r})`. Possible values are: {', '.join(_INTERVALS)}."
            )
        self._duration = _parse_duration(duration)
        self._interval = interval
        self._verbose = verbose
        self._start_time: dict[str, float | None] = {stage: None for stage in _STAGES}
        self._end_time: dict[str, float | None] = {stage: None for stage in _STAGES}
        self._offset = 0.0

    def start_time(self, stage: str = _TRAIN) -> float | None:
        """``time.monotonic()`` when ``stage`` last started, or None."""
        return self._start_time[_stage(stage)]

    def end_time(self, stage: str = _TRAIN) -> float | None:
        return self._end_time[_stage(stage)]

    def time_elapsed(self, stage: str = _TRAIN) -> float:
        """Seconds spent in ``stage`` ("train", "validate", "test"); training includes time before a resume."""
        stage = _stage(stage)
        start, end = self._start_time[stage], self._end_time[stage]
        offset = self._offset if stage == _TRAIN else 0.0
        if start is None:
            return offset
        if end is None:
            return time.monotonic() - start + offset
        return end - start + offset

    def time_remaining(self, stage: str = _TRAIN) -> float | None:
        """Seconds left of ``duration`` (negative when over), or None without a duration."""
        if self._duration is None:
            return None
        return self._duration - self.time_elapsed(stage)

    # -- stage clocks
    def on_train_start(self, trainer, pl_module) -> None:
        self._start_time[_TRAIN] = time.monotonic()
        self._end_time[_TRAIN] = None

    def on_train_end(self, trainer, pl_module) -> None:
        self._end_time[_TRAIN] = time.monotonic()

    def on_validation_start(self, trainer, pl_module) -> None:
        self._start_time["validate"] = time.monotonic()
        self._end_time["validate"] = None

    def on_validation_end(self, trainer, pl_module) -> None:
        self._end_time["validate"] = time.monotonic()

    def on_test_start(self, trainer, pl_module) -> None:
        self._start_time["test"] = time.monotonic()
        self._end_time["test"] = None

    def on_test_end(self, trainer, pl_module) -> None:
        self._end_time["test"] = time.monotonic()

    # -- stopping
    def on_fit_start(self, trainer, pl_module) -> None:
        # after a restore the budget may already be spent, whatever the interval
        if self._duration is not None:
            self._check_time_remaining(trainer)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self._interval == "step" and self._duration is not None:
            self._check_time_remaining(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self._interval == "epoch" and self._duration is not None:
            self._check_time_remaining(trainer)

    def state_dict(self) -> dict[str, Any]:
        return {"time_elapsed": {stage: self.time_elapsed(stage) for stage in _STAGES}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._offset = state_dict.get("time_elapsed", {}).get(_TRAIN, 0.0)

    def _check_time_remaining(self, trainer) -> None:
        should_stop = self.time_elapsed() >= self._duration
        should_stop = trainer.strategy.broadcast(should_stop)
        trainer.should_stop = trainer.should_stop or should_stop
        if should_stop and self._verbose:
            elapsed = timedelta(seconds=int(self.time_elapsed(_TRAIN)))
            rank_zero_info(f"Time limit reached. Elapsed time is {elapsed}. Signaling Trainer to stop.")
