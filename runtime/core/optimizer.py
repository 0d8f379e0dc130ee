"""Optimizers: reading every shape ``configure_optimizers`` may return, and the LightningOptimizer wrapper."""
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch.optim import Optimizer

from runtime.utilities.exceptions import MisconfigurationException
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
        out = trainer.strategy.optimizer_step(self._optimizer, closure, trainer.lightning_module, **kwargs)
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
_OPTIM_DICT_KEYS = ("optimizer", "lr_scheduler", "monitor")


def _is_optimizer(obj: Any) -> bool:
    return isinstance(obj, Optimizer) or isinstance(obj, LightningOptimizer)


def _is_plateau(scheduler: Any) -> bool:
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


def _junk(got: Any) -> MisconfigurationException:
    return MisconfigurationException(
        f"`configure_optimizers` returned {type(got).__name__} ({got!r:.80}), which is not a supported shape. "
        "Return one of: an optimizer; a list or tuple of optimizers; two lists ([optimizers], [schedulers]); "
        'a dict {"optimizer": opt, "lr_scheduler": scheduler or {"scheduler": ..., "interval": "step"}, '
        '"monitor": "val_loss"}; or a list/tuple of such dicts.'
    )


def _scheduler_config(item: Any, monitor: str | None) -> LRSchedulerConfig:
    if isinstance(item, dict):
        unknown = [k for k in item if k not in _SCHEDULER_KEYS]
        if unknown:
            raise MisconfigurationException(invalid_choice("lr_scheduler config key", unknown[0], _SCHEDULER_KEYS))
        if "scheduler" not in item:
            raise MisconfigurationException('The lr scheduler dict must have the key "scheduler" with the scheduler object.')
        interval = item.get("interval", "epoch")
        if interval not in ("step", "epoch"):
            raise MisconfigurationException(invalid_choice("lr_scheduler interval", interval, ("step", "epoch")))
        cfg = LRSchedulerConfig(**{k: v for k, v in item.items()})
        cfg.reduce_on_plateau = item.get("reduce_on_plateau", _is_plateau(cfg.scheduler))
        if cfg.monitor is None:
            cfg.monitor = monitor
    else:
        cfg = LRSchedulerConfig(scheduler=item, reduce_on_plateau=_is_plateau(item), monitor=monitor if _is_plateau(item) else None)
    if not hasattr(cfg.scheduler, "step") or not hasattr(cfg.scheduler, "optimizer"):
        raise MisconfigurationException(
            f"The scheduler {cfg.scheduler!r:.80} is not an LR scheduler: it needs `.step()` and `.optimizer`."
        )
    if not isinstance(cfg.frequency, int) or cfg.frequency < 1:
        raise MisconfigurationException(f"lr_scheduler frequency={cfg.frequency!r} must be a positive integer.")
    if cfg.reduce_on_plateau and cfg.monitor is None:
        raise MisconfigurationException(
            "`configure_optimizers` must include a monitor when a `ReduceLROnPlateau` scheduler is used. For example:"
            ' {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "metric_to_track"}'
        )
    return cfg


def parse_optimizers(got: Any) -> OptimizerSetup:
    """Turn whatever ``configure_optimizers`` returned into lists of optimizers and scheduler configs."""
    setup = OptimizerSetup()
    if got is None:
        return setup
    schedulers: list[Any] = []
    if _is_optimizer(got):
        setup.optimizers = [got]
    elif isinstance(got, dict):
        items = [got]
        return _parse_dicts(items)
    elif isinstance(got, (list, tuple)):
        if len(got) == 2 and isinstance(got[0], (list, tuple)) and isinstance(got[1], (list, tuple)) and all(_is_optimizer(o) for o in got[0]):
            setup.optimizers = list(got[0])
            schedulers = list(got[1])
        elif got and all(isinstance(o, dict) for o in got):
            return _parse_dicts(list(got))
        elif got and all(_is_optimizer(o) for o in got):
            setup.optimizers = list(got)
        else:
            raise _junk(got)
    else:
        raise _junk(got)
    setup.optimizers = [o._optimizer if isinstance(o, LightningOptimizer) else o for o in setup.optimizers]
    setup.lr_schedulers = [_scheduler_config(s, None) for s in schedulers]
    return setup


def _parse_dicts(items: list[dict]) -> OptimizerSetup:
    setup = OptimizerSetup()
    for d in items:
        unknown = [k for k in d if k not in _OPTIM_DICT_KEYS]
        if unknown:
            raise MisconfigurationException(invalid_choice("configure_optimizers dict key", unknown[0], _OPTIM_DICT_KEYS))
        if "optimizer" not in d or not _is_optimizer(d["optimizer"]):
            raise _junk(d)
        setup.optimizers.append(d["optimizer"])
        if d.get("lr_scheduler") is not None:
            setup.lr_schedulers.append(_scheduler_config(d["lr_scheduler"], d.get("monitor")))
        setup.monitor = setup.monitor or d.get("monitor")
    return setup


# Lightning's private entry points into the same parsing; its own tests (and some plugins) call them.
def _configure_optimizers(optim_conf: Any) -> tuple[list[Optimizer], list[LRSchedulerConfig], str | None]:
    """``(optimizers, scheduler configs, monitor)`` for what ``configure_optimizers`` returned."""
    setup = parse_optimizers(optim_conf)
    return setup.optimizers, setup.lr_schedulers, setup.monitor


def _configure_schedulers_automatic_opt(schedulers: list, monitor: str | None) -> list[LRSchedulerConfig]:
    """Scheduler configs for schedulers (objects or dicts) returned beside the optimizers."""
    return [_scheduler_config(s, monitor) for s in schedulers]


def _init_optimizers_and_lr_schedulers(model: Any) -> tuple[list[Optimizer], list[LRSchedulerConfig]]:
    """Call ``model.configure_optimizers()`` and parse it (no optimizer: the do-nothing one Lightning uses)."""
    optimizers, schedulers, _ = _configure_optimizers(model.configure_optimizers())
    return (optimizers or [NoOptimizer()]), schedulers
