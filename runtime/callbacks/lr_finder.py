"""LearningRateFinder: run the learning-rate range test when fit starts, then train with the suggestion."""
from typing import Any

from runtime.callbacks.callback import Callback
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice


class LearningRateFinder(Callback):
    r"""Search the learning rate at ``on_fit_start`` and apply the suggestion to the optimizers of this fit.

    The search (``runtime.tuner.lr_find``) trains a copy of the run for ``num_training_steps`` steps on
    the same training data, then restores the weights. With ``update_attr`` the module's ``lr`` /
    ``learning_rate`` (or ``attr_name``) is set, and the optimizers and schedulers of the fit that is
    starting are switched to the suggested learning rate.

    Example::

        finder = LearningRateFinder(num_training_steps=50)
        Trainer(callbacks=[finder]).fit(model)
        finder.optimal_lr.suggestion()
    """

    SUPPORTED_MODES = ("linear", "exponential")

    def __init__(self, min_lr: float = 1e-8, max_lr: float = 1.0, num_training_steps: int = 100, mode: str = "exponential",
                 early_stop_threshold: float | None = 4.0, update_attr: bool = True, attr_name: str = "") -> None:
        mode = mode.lower() if isinstance(mode, str) else mode
        if mode not in self.SUPPORTED_MODES:
            raise MisconfigurationException(invalid_choice("LearningRateFinder(mode)", mode, self.SUPPORTED_MODES))
        self._min_lr = min_lr
        self._max_lr = max_lr
        self._num_training_steps = num_training_steps
        self._mode = mode
        self._early_stop_threshold = early_stop_threshold
        self._update_attr = update_attr
        self._attr_name = attr_name
        self.optimal_lr: Any = None  # the LRFinder result

    def lr_find(self, trainer, pl_module) -> None:
        from runtime.tuner.lr_finder import lr_find

        self.optimal_lr = lr_find(
            trainer, pl_module, train_dataloaders=_train_source(trainer), datamodule=trainer.datamodule,
            min_lr=self._min_lr, max_lr=self._max_lr, num_training=self._num_training_steps, mode=self._mode,
            early_stop_threshold=self._early_stop_threshold, update_attr=self._update_attr, attr_name=self._attr_name,
        )
        lr = self.optimal_lr.suggestion() if self._update_attr else None
        if lr is None:
            return
        # the fit that is starting built its optimizers before this hook: give them the new lr too
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group["lr"] = lr
                if "initial_lr" in group:
                    group["initial_lr"] = lr
        for config in trainer.lr_scheduler_configs:
            base = getattr(config.scheduler, "base_lrs", None)
            if base is not None:
                config.scheduler.base_lrs = [lr] * len(base)

    def on_fit_start(self, trainer, pl_module) -> None:
        self.lr_find(trainer, pl_module)


def _train_source(trainer) -> Any:
    """The ``train_dataloaders`` given to ``fit`` (None when they come from a datamodule or the module)."""
    if trainer.datamodule is not None:
        return None
    return getattr(trainer, "_loader_args", {}).get("train")
