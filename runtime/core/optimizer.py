"""Optimizers: reading every shape ``configure_optimizers`` may return, and the LightningOptimizer wrapper."""
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch.optim import Optimizer

from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.suggest import invalid_choice
from runtime.utilities.types import LRSchedulerConfig


def _do_nothing_closure() -> None:
    return None


class NoOptimizer(torch.optim.Optimizer):
    """Stands in when ``configure_optimizers`` returns None: runs the closure, updates nothing."""

    def __init__(self) -> None:
        super().__init__([torch.zeros(1)], {})

    def step(self, closure=None):
        return closure() if closure is not None else None

    def zero_grad(self, set_to_none: bool = True) -> None: ...


class LightningOptimizer:
    """Wraps a user's optimizer so ``step()`` goes through the strategy (precision, clipping hooks, counters).

    Every other attribute (``param_groups``, ``state``, ``zero_grad`` ...) is the wrapped optimizer's.
    """

    def __init__(self, optimizer: Optimizer, trainer=None):
        self.__dict__["_optimizer"] = optimizer
        self.__dict__["_trainer"] = trainer

    @property
    def optimizer(self) -> Optimizer:
        return self._optimizer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_optimizer"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._optimizer, name, value)

    def __repr__(self) -> str:
        return f"LightningOptimizer({self._optimizer!r})"

    def zero_grad(self, set_to_none: bool = True) -> None:
        self._optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        """Run ``closure`` (the training step in automatic mode), the before-step hooks, then the update."""
        trainer = self._trainer
        if trainer is None:
            return self._optimizer.step(closure, **kwargs) if closure is not None else self._optimizer.step(**kwargs)
        if closure is None:
            closure = _do_nothing_closure
        elif not callable(closure):
            raise MisconfigurationException("When `optimizer.step(closure)` is called, the closure should be callable")
        if kwargs:
            out = trainer.strategy.optimizer_step(self._optimizer, closure, trainer._lightning_module, **kwargs)
        else:  # the usual call: no keyword dict to build on every step
            out = trainer.strategy.optimizer_step(self._optimizer, closure, trainer._lightning_module)
        trainer._progress.optimizer_steps += 1
        return out

    def state_dict(self) -> dict:
        return self._optimizer.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self._optimizer.load_state_dict(state_dict)


@dataclass
class OptimizerSetup:
    optimizers: list[Optimizer] = field(default_factory=list)
    lr_schedulers: list[LRSchedulerConfig] = field(default_factory=list)
    monitor: str | None = None


_SCHEDULER_KEYS = ("scheduler", "name", "interval", "frequency", "reduce_on_plateau", "monitor", "strict", "opt_idx")
_MANUAL_IGNORED_KEYS = ("reduce_on_plateau", "monitor", "strict")  # the trainer does not step schedulers in manual mode
_OPTIM_DICT_KEYS = ("optimizer", "lr_scheduler", "monitor")


def _is_optimizer(obj: Any) -> bool:
    return isinstance(obj, Optimizer) or isinstance(obj, LightningOptimizer)


def _is_plateau(scheduler: Any) -> bool:
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


def _junk(got: Any) -> MisconfigurationException:
    return MisconfigurationException(
        f"Unknown configuration for model optimizers: `configure_optimizers` returned {type(got).__name__} "
        f"({got!r:.80}). Return one of: an optimizer; a list or tuple of optimizers; two lists ([optimizers], "
        '[schedulers]); a dict {"optimizer": opt, "lr_scheduler": scheduler or {"scheduler": ..., "interval": '
        '"step"}, "monitor": "val_loss"}; or a list/tuple of such dicts.'
    )


def _warn_runtime(message: str) -> None:
    rank_zero_warn(message, category=RuntimeWarning)


def _check_optim_dict(d: dict) -> None:
    extra = set(d) - set(_OPTIM_DICT_KEYS)
    if extra:
        _warn_runtime(f"Found unsupported keys in the optimizer configuration: {extra}; they are ignored.")
    if "optimizer" not in d:
        hint = invalid_choice("configure_optimizers dict key", sorted(extra)[0], _OPTIM_DICT_KEYS) if extra else ""
        raise MisconfigurationException(
            f'The dict `configure_optimizers` returned has no "optimizer" key (keys: {sorted(d)}). {hint}'.strip()
        )
    if not _is_optimizer(d["optimizer"]):
        raise _junk(d)


def _configure_optimizers(optim_conf: Any) -> tuple[list, list, str | None]:
    """``(optimizers, schedulers as returned, monitor)`` for each shape ``configure_optimizers`` may return."""
    if _is_optimizer(optim_conf):
        return [optim_conf], [], None
    if isinstance(optim_conf, dict):
        _check_optim_dict(optim_conf)
        lr = optim_conf.get("lr_scheduler")
        return [optim_conf["optimizer"]], [lr] if lr is not None else [], optim_conf.get("monitor")
    if not isinstance(optim_conf, (list, tuple)) or not optim_conf:
        raise _junk(optim_conf)
    first = optim_conf[0]
    if len(optim_conf) == 2 and isinstance(first, (list, tuple)) and all(_is_optimizer(o) for o in first):
        schedulers = optim_conf[1]
        return list(first), list(schedulers) if isinstance(schedulers, (list, tuple)) else [schedulers], None
    if all(isinstance(d, dict) for d in optim_conf):
        optimizers, schedulers = [], []
        for d in optim_conf:
            _check_optim_dict(d)
            optimizers.append(d["optimizer"])
            lr = d.get("lr_scheduler")
            if lr is not None:
                lr = dict(lr) if isinstance(lr, dict) else {"scheduler": lr}
                if d.get("monitor") is not None:
                    lr.setdefault("monitor", d["monitor"])
                schedulers.append(lr)
        return optimizers, schedulers, None
    if all(_is_optimizer(o) for o in optim_conf):
        return list(optim_conf), [], None
    raise _junk(optim_conf)


def _configure_schedulers_automatic_opt(schedulers: list, monitor: str | None) -> list[LRSchedulerConfig]:
    """Scheduler configs for automatic optimization, where the trainer steps each scheduler."""
    configs = []
    for item in schedulers:
        if isinstance(item, dict):
            extra = set(item) - set(_SCHEDULER_KEYS)
            if extra:
                _warn_runtime(f"Found unsupported keys in the lr scheduler dict: {extra}. HINT: remove them from "
                              f"the output of `configure_optimizers`; valid keys are {list(_SCHEDULER_KEYS)}.")
                item = {k: v for k, v in item.items() if k in _SCHEDULER_KEYS}
            if "scheduler" not in item:
                raise MisconfigurationException(
                    'The lr scheduler dict must have the key "scheduler" with its item being an lr scheduler, e.g. '
                    '{"scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 1), "interval": "epoch"}.'
                )
            interval = item.get("interval", "epoch")
            if interval not in ("step", "epoch"):
                raise MisconfigurationException(
                    f'The "interval" key in lr scheduler dict must be "step" or "epoch" but is "{interval}".'
                )
            cfg = LRSchedulerConfig(**item)
            cfg.reduce_on_plateau = item.get("reduce_on_plateau", _is_plateau(cfg.scheduler))
            if cfg.monitor is None:
                cfg.monitor = monitor
            if cfg.reduce_on_plateau and cfg.monitor is None:
                raise MisconfigurationException(
                    "The lr scheduler dict must include a monitor when a `ReduceLROnPlateau` scheduler is used."
                    ' For example: {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "your_loss"}}'
                )
            if isinstance(cfg.scheduler, torch.optim.lr_scheduler.OneCycleLR) and interval == "epoch":
                _warn_runtime("A `OneCycleLR` scheduler is using 'interval': 'epoch'. "
                              "Are you sure you didn't mean 'interval': 'step'?")
        elif _is_plateau(item):
            if monitor is None:
                raise MisconfigurationException(
                    "`configure_optimizers` must include a monitor when a `ReduceLROnPlateau` scheduler is used. For example:"
                    ' {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "metric_to_track"}'
                )
            cfg = LRSchedulerConfig(item, reduce_on_plateau=True, monitor=monitor)
        else:
            cfg = LRSchedulerConfig(item)
        if not isinstance(cfg.frequency, int) or cfg.frequency < 1:
            raise MisconfigurationException(f"lr_scheduler frequency={cfg.frequency!r} must be a positive integer.")
        configs.append(cfg)
    return configs


def _configure_schedulers_manual_opt(schedulers: list) -> list[LRSchedulerConfig]:
    """Scheduler configs for manual optimization: the user steps them; ``interval`` stays (LearningRateMonitor reads it)."""
    configs = []
    for item in schedulers:
        if isinstance(item, dict):
            ignored = [k for k in item if k in _MANUAL_IGNORED_KEYS]
            if ignored:
                _warn_runtime(f"The lr scheduler dict contains the key(s) {ignored}, but the keys will be ignored."
                              " You need to call `lr_scheduler.step()` manually in manual optimization.")
            extra = set(item) - set(_SCHEDULER_KEYS)
            if extra:
                _warn_runtime(f"Found unsupported keys in the lr scheduler dict: {extra}. HINT: remove them from "
                              "the output of `configure_optimizers`.")
            if "scheduler" not in item:
                raise MisconfigurationException('The lr scheduler dict must have the key "scheduler" with its item being an lr scheduler.')
            configs.append(LRSchedulerConfig(**{k: v for k, v in item.items() if k in _SCHEDULER_KEYS and k not in _MANUAL_IGNORED_KEYS}))
        else:
            configs.append(LRSchedulerConfig(item))
    return configs


def _validate_schedulers(optimizers: list, configs: list[LRSchedulerConfig], model: Any) -> None:
    """Each scheduler drives one of the returned optimizers, can be checkpointed, and can be stepped."""
    from runtime.utilities.model_helpers import is_overridden

    torch_types = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    for cfg in configs:
        scheduler, name = cfg.scheduler, type(cfg.scheduler).__name__
        if not any(getattr(scheduler, "optimizer", None) is opt for opt in optimizers):
            raise MisconfigurationException(
                f"Some schedulers are attached with an optimizer that wasn't returned from `configure_optimizers`: "
                f"`{name}` steps an optimizer not in the returned list. Return that optimizer too, or build the "
                "scheduler on one of the returned optimizers."
            )
        if not (callable(getattr(scheduler, "state_dict", None)) and callable(getattr(scheduler, "load_state_dict", None))):
            raise TypeError(f"The provided lr scheduler `{name}` is invalid. It should have `state_dict` and "
                            "`load_state_dict` methods defined (they are saved in and restored from checkpoints).")
        if (model.automatic_optimization and not isinstance(scheduler, torch_types)
                and not is_overridden("lr_scheduler_step", model)):
            raise MisconfigurationException(
                f"The provided lr scheduler `{name}` doesn't follow PyTorch's LRScheduler API. You should override "
                "the `LightningModule.lr_scheduler_step` hook with your own logic if you are using a custom LR scheduler."
            )


def validate_optimizer_count(optimizers: list, model: Any) -> None:
    """Several optimizers, or ``training_step(..., optimizer_idx)``, need manual optimization (Lightning's RuntimeErrors)."""
    import inspect

    try:
        params = inspect.signature(model.training_step).parameters
    except (TypeError, ValueError):
        params = {}
    if "optimizer_idx" in params and model.automatic_optimization:
        raise RuntimeError(
            "Training with multiple optimizers is only supported with manual optimization. Remove the `optimizer_idx`"
            " argument from `training_step`, set `self.automatic_optimization = False` and access your optimizers"
            " in `training_step` with `opt1, opt2, ... = self.optimizers()`."
        )
    if model.automatic_optimization and len(optimizers) > 1:
        raise RuntimeError(
            f"Training with multiple optimizers is only supported with manual optimization (`configure_optimizers` "
            f"returned {len(optimizers)}). Set `self.automatic_optimization = False` in `__init__`, then in "
            "`training_step` call `opt1, opt2 = self.optimizers()`, `self.manual_backward(loss)` and `opt.step()`."
        )


def parse_optimizers(got: Any, automatic: bool = True) -> OptimizerSetup:
    """Turn whatever ``configure_optimizers`` returned into lists of optimizers and scheduler configs."""
    if got is None:
        return OptimizerSetup()
    optimizers, schedulers, monitor = _configure_optimizers(got)
    optimizers = [o._optimizer if isinstance(o, LightningOptimizer) else o for o in optimizers]
    configs = _configure_schedulers_automatic_opt(schedulers, monitor) if automatic else _configure_schedulers_manual_opt(schedulers)
    return OptimizerSetup(optimizers, configs, monitor)


_NO_OPTIMIZER_WARNING = "`LightningModule.configure_optimizers` returned `None`, this fit will run with no optimizer"


def checked_optimizers(got: Any, model: Any) -> OptimizerSetup:
    """What ``configure_optimizers`` returned, read and checked against ``model``: the optimizers (the do-nothing
    one for None, with Lightning's warning) and scheduler configs."""
    if got is None:
        # in manual optimization the module may build and step optimizers of its own: Lightning's words only
        rank_zero_warn(f"{_NO_OPTIMIZER_WARNING}: nothing is updated." if model.automatic_optimization else _NO_OPTIMIZER_WARNING)
        got = NoOptimizer()
    setup = parse_optimizers(got, model.automatic_optimization)
    validate_optimizer_count(setup.optimizers, model)
    _validate_schedulers(setup.optimizers, setup.lr_schedulers, model)
    return setup


def _init_optimizers_and_lr_schedulers(model: Any) -> tuple[list[Optimizer], list[LRSchedulerConfig]]:
    """``model.configure_optimizers()`` read and checked (Lightning's name): optimizers and scheduler configs."""
    setup = checked_optimizers(model.configure_optimizers(), model)
    return setup.optimizers, setup.lr_schedulers
