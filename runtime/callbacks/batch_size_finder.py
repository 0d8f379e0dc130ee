"""BatchSizeFinder: find the largest batch size that fits when a run starts, then run with it."""
from typing import Any

from runtime.callbacks.callback import Callback
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice

__all__ = ["BatchSizeFinder"]


class BatchSizeFinder(Callback):
    """Scale ``batch_arg_name`` (on the module, the datamodule or their hparams) before the run starts.

    Args:
        mode: "power" (double until out of memory) or "binsearch" (then bisect).
        steps_per_trial: batches each trial runs.
        init_val: the first batch size tried.
        max_trials: at most this many trials.
        batch_arg_name: the attribute the dataloader hooks read.

    Example::

        Trainer(callbacks=[BatchSizeFinder(mode="binsearch")]).fit(model)   # model.batch_size is then the result
    """

    SUPPORTED_MODES = ("power", "binsearch")

    def __init__(self, mode: str = "power", steps_per_trial: int = 3, init_val: int = 2, max_trials: int = 25,
                 batch_arg_name: str = "batch_size") -> None:
        mode = mode.lower() if isinstance(mode, str) else mode
        if mode not in self.SUPPORTED_MODES:
            raise ValueError(invalid_choice("BatchSizeFinder(mode)", mode, self.SUPPORTED_MODES))
        self.mode = mode
        self._steps_per_trial = steps_per_trial
        self._init_val = init_val
        self._max_trials = max_trials
        self._batch_arg_name = batch_arg_name
        self.optimal_batch_size: int | None = init_val

    def setup(self, trainer, pl_module, stage: str) -> None:
        if trainer.world_size > 1:
            raise MisconfigurationException("The Batch size finder is not supported with distributed strategies.")
        loaders = getattr(trainer, "_loader_args", {}) or {}
        if any(v is not None for v in loaders.values()):
            raise MisconfigurationException(
                "The Batch size finder cannot be used with dataloaders passed directly to `.fit()`, `.validate()`,"
                " `.test()` or `.predict()`: define the dataloader in the LightningModule or LightningDataModule."
            )

    def scale_batch_size(self, trainer, pl_module) -> None:
        from runtime.tuner.batch_size_scaling import scale_batch_size

        fn = getattr(trainer.state.fn, "value", trainer.state.fn)
        method = {"fit": "fit", "validate": "validate", "test": "test", "predict": "predict"}.get(fn, "fit")
        self.optimal_batch_size = scale_batch_size(
            trainer, pl_module, datamodule=trainer.datamodule, method=method, mode=self.mode,
            steps_per_trial=self._steps_per_trial, init_val=self._init_val, max_trials=self._max_trials,
            batch_arg_name=self._batch_arg_name,
        )

    def on_fit_start(self, trainer, pl_module) -> None:
        self.scale_batch_size(trainer, pl_module)

    def on_validation_start(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or getattr(trainer.state.fn, "value", trainer.state.fn) != "validate":
            return
        self.scale_batch_size(trainer, pl_module)

    def on_test_start(self, trainer, pl_module) -> None:
        self.scale_batch_size(trainer, pl_module)

    def on_predict_start(self, trainer, pl_module) -> None:
        self.scale_batch_size(trainer, pl_module)

