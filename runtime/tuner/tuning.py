"""Tuner: Lightning's entry point to the tuning helpers (lr_find, scale_batch_size), bound to one Trainer."""
from typing import Any

from runtime.tuner.batch_size_scaling import scale_batch_size
from runtime.tuner.lr_finder import LRFinder, lr_find


class Tuner:
    """``Tuner(trainer).lr_find(model)`` runs a learning-rate range test with ``trainer``'s device and precision.

    Example::

        trainer = Trainer(max_epochs=10)
        result = Tuner(trainer).lr_find(model)      # sets model.lr (or model.learning_rate) to the suggestion
        print(result.suggestion()); result.plot(suggest=True)
        trainer.fit(model)
    """

    def __init__(self, trainer) -> None:
        self._trainer = trainer

    def scale_batch_size(
        self,
        model,
        train_dataloaders: Any = None,
        val_dataloaders: Any = None,
        dataloaders: Any = None,
        datamodule: Any = None,
        method: str = "fit",
        mode: str = "power",
        steps_per_trial: int = 3,
        init_val: int = 2,
        max_trials: int = 25,
        batch_arg_name: str = "batch_size",
    ) -> int | None:
        """The largest batch size that fits (see ``runtime.tuner.batch_size_scaling.scale_batch_size``)."""
        return scale_batch_size(
            self._trainer, model, train_dataloaders=train_dataloaders, val_dataloaders=val_dataloaders,
            dataloaders=dataloaders, datamodule=datamodule, method=method, mode=mode, steps_per_trial=steps_per_trial,
            init_val=init_val, max_trials=max_trials, batch_arg_name=batch_arg_name,
        )

    def lr_find(
        self,
        model,
        train_dataloaders: Any = None,
        val_dataloaders: Any = None,
        dataloaders: Any = None,
        datamodule: Any = None,
        method: str = "fit",
        min_lr: float = 1e-8,
        max_lr: float = 1.0,
        num_training: int = 100,
        mode: str = "exponential",
        early_stop_threshold: float | None = 4.0,
        update_attr: bool = True,
        attr_name: str = "",
    ) -> LRFinder | None:
        """Train ``num_training`` steps with the lr rising from ``min_lr`` to ``max_lr``; see ``runtime.tuner.lr_find``."""
        if method != "fit":
            raise ValueError(f"Tuner.lr_find(method={method!r}): the learning-rate finder only works with method='fit'.")
        if dataloaders is not None and train_dataloaders is None:
            train_dataloaders = dataloaders
        return lr_find(
            self._trainer, model, train_dataloaders=train_dataloaders, val_dataloaders=val_dataloaders,
            datamodule=datamodule, min_lr=min_lr, max_lr=max_lr, num_training=num_training, mode=mode,
            early_stop_threshold=early_stop_threshold, update_attr=update_attr, attr_name=attr_name,
        )
