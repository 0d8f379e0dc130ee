"""ProgressBar: the base class every progress bar derives from (Lightning's ``callbacks.progress.progress_bar``).

The trainer finds its bar through this class (``trainer.progress_bar_callback``); ``get_metrics`` says what a
bar shows after its counters.
"""
from typing import Any

from runtime.callbacks.callback import Callback


class ProgressBar(Callback):
    """Base class for progress bars (Lightning's ``ProgressBar``).

    The trainer finds its progress bar through this class (``trainer.progress_bar_callback``), and
    ``LightningModule.print`` goes through ``print`` so text does not tear the bar.
    """

    def __init__(self) -> None:
        self._trainer: Any = None
        self._current_eval_dataloader_idx: int | None = None

    @property
    def trainer(self) -> Any:
        if self._trainer is None:
            raise TypeError(f"The `{self.__class__.__name__}._trainer` reference has not been set yet.")
        return self._trainer

    @property
    def sanity_check_description(self) -> str:
        return "Sanity Checking"

    @property
    def train_description(self) -> str:
        return "Training"

    @property
    def validation_description(self) -> str:
        return "Validation"

    @property
    def test_description(self) -> str:
        return "Testing"

    @property
    def predict_description(self) -> str:
        return "Predicting"

    @property
    def total_train_batches(self) -> int | float:
        """Batches in one training epoch (``inf`` for an iterable without a length)."""
        return self.trainer.num_training_batches

    def _eval_totals(self, stage: str) -> list[int | float]:
        """Batches per dataloader of ``stage`` ("val", "test", "predict"); the sanity check's own in it."""
        trainer = self.trainer
        if stage != "val":
            return list(getattr(trainer, f"num_{stage}_batches"))
        totals = list(trainer.num_val_batches)
        steps = trainer.num_sanity_val_steps
        if trainer.sanity_checking and steps != -1:
            return [min(n, steps) for n in totals]  # Lightning's ``trainer.num_sanity_val_batches``
        return totals

    @property
    def total_val_batches_current_dataloader(self) -> int | float:
        totals = self._eval_totals("val")
        idx = self._current_eval_dataloader_idx or 0
        return totals[idx] if idx < len(totals) else 0

    @property
    def total_test_batches_current_dataloader(self) -> int | float:
        totals = self._eval_totals("test")
        idx = self._current_eval_dataloader_idx or 0
        return totals[idx] if idx < len(totals) else 0

    @property
    def total_predict_batches_current_dataloader(self) -> int | float:
        totals = self._eval_totals("predict")
        idx = self._current_eval_dataloader_idx or 0
        return totals[idx] if idx < len(totals) else 0

    @property
    def total_val_batches(self) -> int | float:
        """Validation batches over all validation dataloaders (0 in a training epoch that does not validate)."""
        trainer = self.trainer
        every = trainer.check_val_every_n_epoch
        if trainer.training and every is not None and (trainer.current_epoch + 1) % every != 0:
            return 0
        return sum(self._eval_totals("val"))

    def has_dataloader_changed(self, dataloader_idx: int) -> bool:
        old = self._current_eval_dataloader_idx
        self._current_eval_dataloader_idx = dataloader_idx
        return old != dataloader_idx

    def reset_dataloader_idx_tracker(self) -> None:
        self._current_eval_dataloader_idx = None

    def disable(self) -> None:
        """Stop showing progress (the trainer calls this on ranks other than zero); a subclass provides it."""
        raise NotImplementedError

    def enable(self) -> None:
        """Show progress again; a subclass provides it."""
        raise NotImplementedError

    @property
    def is_enabled(self) -> bool:
        return True

    @property
    def is_disabled(self) -> bool:
        return not self.is_enabled

    def print(self, *args: Any, **kwargs: Any) -> None:
        """Print without breaking the bar (``LightningModule.print`` lands here)."""
        print(*args, **kwargs)

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        self._trainer = trainer
        if not trainer.is_global_zero:
            self.disable()

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        """What the bar shows after the counters: ``v_num`` and the ``prog_bar=True`` metrics.

        Override to add or drop entries (``items.pop("v_num", None)``). Values may be tensors; they
        are read to the host by the caller, only when the bar is drawn.
        """
        standard = get_standard_metrics(trainer)
        return {**standard, **trainer.progress_bar_metrics}


class _SwitchedBar(ProgressBar):
    """What the built-in bars share: ``refresh_rate`` (0 turns the bar off), ``process_position`` and the
    on / off switch behind ``enable`` / ``disable``.

    Kept out of :class:`ProgressBar` itself, which stays Lightning's base: there ``enable`` / ``disable``
    are left to a subclass, and a subclass may assign its own ``refresh_rate`` attribute.
    """

    def __init__(self, refresh_rate: int, process_position: int = 0) -> None:
        super().__init__()
        if not isinstance(refresh_rate, int) or isinstance(refresh_rate, bool) or refresh_rate < 0:
            raise ValueError(f"refresh_rate={refresh_rate!r} must be an int >= 0 (0 turns the bar off)")
        self._refresh_rate = refresh_rate
        self._process_position = process_position
        self._enabled = True

    @property
    def refresh_rate(self) -> int:
        return self._refresh_rate

    @property
    def process_position(self) -> int:
        return self._process_position

    @property
    def is_enabled(self) -> bool:
        return self._enabled and self.refresh_rate > 0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True


def get_standard_metrics(trainer: Any) -> dict[str, int | str]:
    """``{"v_num": version}`` of the trainer's loggers (a string version is cut to its last 4 characters)."""
    loggers = trainer.loggers
    if not loggers:
        return {}
    if len(loggers) == 1:
        version = loggers[0].version
    else:
        version = "_".join(dict.fromkeys(str(lg.version) for lg in loggers))
    if version in ("", None):
        return {}
    if isinstance(version, str):
        version = version[-4:]
    return {"v_num": version}
