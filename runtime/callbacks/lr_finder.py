"""The learning-rate range test (Smith, 2015), and LearningRateFinder, the callback that runs it when fit starts.

``lr_find`` trains a few steps with a rising learning rate and records the loss. It runs a separate,
quiet Trainer on the same device and precision as the user's, so it needs nothing from the user's
trainer beyond its public settings, and it puts the module's weights back afterwards. The suggestion
is the learning rate where the (smoothed) loss falls fastest, as in Lightning. ``runtime.tuner``
(``Tuner(trainer).lr_find(model)``) is the entry point Lightning users know; it calls ``lr_find``.
"""
import copy
import logging
from typing import Any

import torch

from runtime.callbacks.callback import Callback
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.seed import isolate_rng
from runtime.utilities.suggest import invalid_choice

log = logging.getLogger(__name__)

_MODES = ("exponential", "linear")
_LR_ATTRS = ("lr", "learning_rate")


class LRFinder:
    """What ``lr_find`` returns: ``results`` ({"lr": [...], "loss": [...]}), ``suggestion()`` and ``plot()``."""

    def __init__(self, mode: str, lr_min: float, lr_max: float, num_training: int) -> None:
        self.mode = mode
        self.lr_min = lr_min
        self.lr_max = lr_max
        self.num_training = num_training
        self.results: dict[str, list[float]] = {}
        self._optimal_idx: int | None = None

    def lr_at(self, step: int) -> float:
        """The learning rate of search step ``step`` (0-based): from ``lr_min`` to ``lr_max`` in ``num_training`` steps."""
        r = step / max(self.num_training - 1, 1)
        if self.mode == "linear":
            return self.lr_min + r * (self.lr_max - self.lr_min)
        return self.lr_min * (self.lr_max / self.lr_min) ** r

    def suggestion(self, skip_begin: int = 10, skip_end: int = 1) -> float | None:
        """The lr where the loss falls fastest (steepest negative gradient), ignoring the first and last points."""
        losses = torch.tensor(self.results["loss"][skip_begin:-skip_end], dtype=torch.float64)
        lrs = torch.tensor(self.results["lr"][skip_begin:-skip_end], dtype=torch.float64)
        finite = torch.isfinite(losses)
        losses, lrs = losses[finite], lrs[finite]
        if len(losses) < 2:
            log.error("Failed to compute suggestion for learning rate because there are not enough points. Increase the "
                      "loop iteration limits or the size of your dataset/dataloader.")
            self._optimal_idx = None
            return None
        gradients = torch.gradient(losses)[0]
        min_grad = int(torch.argmin(gradients).item())
        kept = torch.arange(len(self.results["loss"]))[skip_begin:-skip_end][finite]
        self._optimal_idx = int(kept[min_grad].item())
        return self.results["lr"][self._optimal_idx]

    def plot(self, suggest: bool = False, show: bool = False, ax: Any = None) -> Any:
        """Plot loss against lr (log scale for "exponential"); needs matplotlib (``pip install matplotlib``)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ModuleNotFoundError("LRFinder.plot() needs matplotlib: `pip install matplotlib`.") from None
        lrs, losses = self.results["lr"], self.results["loss"]
        if ax is None:
            fig, ax = plt.subplots()
        else:
            fig = ax.figure
        ax.plot(lrs, losses)
        if self.mode == "exponential":
            ax.set_xscale("log")
        ax.set_xlabel("Learning rate")
        ax.set_ylabel("Loss")
        if suggest:
            if self._optimal_idx is None:
                self.suggestion()
            if self._optimal_idx is not None:
                ax.plot(lrs[self._optimal_idx], losses[self._optimal_idx], markersize=10, marker="o", color="red")
        if show:
            plt.show()
        return fig


class _LRSearch(Callback):
    """Sets the lr before each optimizer step and records the smoothed loss after it; stops on divergence."""

    def __init__(self, finder: LRFinder, early_stop_threshold: float | None, beta: float = 0.98) -> None:
        self.finder = finder
        self.early_stop_threshold = early_stop_threshold
        self.beta = beta
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.avg_loss = 0.0
        self.best_loss = 0.0
        self._steps = 0

    def on_fit_start(self, trainer, pl_module) -> None:
        # the search drives the lr itself: the module's schedulers (and a plateau monitor) would fight it
        trainer.lr_scheduler_configs = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        lr = self.finder.lr_at(trainer.global_step)
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group["lr"] = lr

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self._steps:  # accumulating: no optimizer step yet
            return
        self._steps = trainer.global_step
        self.lrs.append(self.finder.lr_at(trainer.global_step - 1))
        loss = outputs if isinstance(outputs, torch.Tensor) else (outputs or {}).get("loss")
        if loss is None:  # a skipped batch: a point the suggestion ignores
            self.losses.append(float("nan"))
            return
        current = float(loss.item())  # one host read per search step; the search is short by design
        self.avg_loss = self.beta * self.avg_loss + (1 - self.beta) * current
        smoothed = self.avg_loss / (1 - self.beta ** self._steps)
        if self.early_stop_threshold is not None and self._steps > 1 and smoothed > self.early_stop_threshold * self.best_loss:
            trainer.should_stop = True  # diverging
        if smoothed < self.best_loss or self._steps == 1:
            self.best_loss = smoothed
        self.losses.append(smoothed)


def _lr_holder(model, datamodule, attr_name: str) -> tuple[Any, str, bool]:
    """Where the learning rate lives: (object, name, is_mapping), searched in the model, its hparams, the datamodule."""
    names = (attr_name,) if attr_name else _LR_ATTRS
    for name in names:
        if hasattr(model, name) and not callable(getattr(model, name)):
            return model, name, False
        hparams = getattr(model, "hparams", None)
        if hparams is not None and name in hparams:
            return hparams, name, True
        if datamodule is not None and hasattr(datamodule, name):
            return datamodule, name, False
    if attr_name:
        raise AttributeError(
            f"The attribute name for the learning rate was set to {attr_name}, but could not find this as a field in "
            "`model` or `model.hparams`."
        )
    raise AttributeError(
        f"When using the learning rate finder, either `model` or `model.hparams` should have one of these fields: "
        f"{list(_LR_ATTRS)}. If your model has a different name for the learning rate, set it with `.lr_find(attr_name=...)`."
    )


def _set_lr_attr(holder: tuple[Any, str, bool], lr: float) -> None:
    obj, name, is_mapping = holder
    if is_mapping:
        obj[name] = lr
    else:
        setattr(obj, name, lr)
    model_hparams = getattr(obj, "hparams", None)  # keep `self.hparams.lr` in step with `self.lr`
    if not is_mapping and model_hparams is not None and name in model_hparams:
        model_hparams[name] = lr


def lr_find(
    trainer,
    model,
    train_dataloaders: Any = None,
    val_dataloaders: Any = None,
    datamodule: Any = None,
    min_lr: float = 1e-8,
    max_lr: float = 1.0,
    num_training: int = 100,
    mode: str = "exponential",
    early_stop_threshold: float | None = 4.0,
    update_attr: bool = True,
    attr_name: str = "",
) -> LRFinder | None:
    """Run the range test for ``model`` with ``trainer``'s device, precision, accumulation and clipping.

    The module's weights (and random state) are the same afterwards; with ``update_attr`` its ``lr`` or
    ``learning_rate`` (attribute or hparam, or ``attr_name``) is set to the suggestion.

    Example::

        finder = lr_find(trainer, model, num_training=50)
        finder.results["lr"], finder.results["loss"], finder.suggestion()
    """
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in _MODES:
        raise MisconfigurationException(invalid_choice("lr_find(mode)", mode, _MODES))
    if not (0 < min_lr < max_lr):
        raise MisconfigurationException(f"lr_find needs 0 < min_lr < max_lr, got min_lr={min_lr}, max_lr={max_lr}.")
    if not isinstance(num_training, int) or num_training < 2:
        raise MisconfigurationException(f"lr_find(num_training={num_training!r}) must be an integer >= 2.")
    if trainer.fast_dev_run:
        rank_zero_warn("Skipping learning rate finder since `fast_dev_run` is enabled.")
        return None
    holder = _lr_holder(model, datamodule, attr_name) if update_attr else None  # fail before training, not after

    finder = LRFinder(mode, min_lr, max_lr, num_training)
    search = _LRSearch(finder, early_stop_threshold)
    device = trainer.strategy.root_device
    # a Trainer of the caller's own class, from its public settings only (this layer does not import the Trainer)
    search_trainer = type(trainer)(
        accelerator=trainer.accelerator,
        devices=1 if device.index is None else [device.index],
        precision=trainer.precision,
        max_steps=num_training,
        limit_train_batches=trainer.limit_train_batches,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        accumulate_grad_batches=trainer.accumulate_grad_batches,
        gradient_clip_val=trainer.gradient_clip_val,
        gradient_clip_algorithm=trainer.gradient_clip_algorithm,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=trainer.default_root_dir,
        callbacks=[search],
    )
    attached = model._trainer
    dm_attached = getattr(datamodule, "trainer", None) if datamodule is not None else None
    initial = copy.deepcopy(model.state_dict())
    try:
        with isolate_rng():
            search_trainer.fit(model, train_dataloaders=train_dataloaders, datamodule=datamodule)
    finally:
        model.load_state_dict(initial)
        model._trainer = attached
        if datamodule is not None:
            datamodule.trainer = dm_attached
    finder.results = {"lr": search.lrs, "loss": search.losses}
    if update_attr:
        lr = finder.suggestion()
        if lr is not None:
            _set_lr_attr(holder, lr)
            log.info(f"Learning rate set to {lr}")
    return finder


class LearningRateFinder(Callback):
    r"""Search the learning rate at ``on_fit_start`` and apply the suggestion to the optimizers of this fit.

    The search (``lr_find`` below, also ``runtime.tuner.lr_find``) trains a copy of the run for ``num_training_steps`` steps on
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
        self.optimal_lr = lr_find(
            trainer, pl_module, train_dataloaders=_train_source(trainer), datamodule=trainer.datamodule,
            min_lr=self._min_lr, max_lr=self._max_lr, num_training=self._num_training_steps, mode=self._mode,
            early_stop_threshold=self._early_stop_threshold, update_attr=self._update_attr, attr_name=self._attr_name,
        )
        if self.optimal_lr is None:  # skipped (fast_dev_run)
            return
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
    return trainer._run.loader_args.get("train")
