"""LearningRateMonitor: log the learning rate (and optionally momentum, weight decay) of every optimizer.

Names follow Lightning: ``lr-<OptimizerClass>`` (or the scheduler config's ``name``), ``-1``, ``-2`` for
further optimizers of the same class, ``/pg1``, ``/pg2`` (or the group's ``name``) for parameter groups,
and ``-momentum`` / ``-weight_decay`` suffixes. Values are read from ``param_groups`` (Python floats),
so logging them costs no device synchronisation.
"""
import itertools
from collections import defaultdict
from typing import Any

import torch

from runtime.callbacks.callback import Callback
from runtime.core.optimizer import NoOptimizer
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.suggest import invalid_choice


class LearningRateMonitor(Callback):
    r"""Log learning rates through ``trainer.loggers``.

    Args:
        logging_interval: "step" or "epoch" logs at that interval for every scheduler; None logs each
            scheduler at its own ``interval``. Optimizers without a scheduler are logged at every
            logging point.
        log_momentum: also log ``momentum`` (or ``betas[0]`` for Adam-like optimizers).
        log_weight_decay: also log ``weight_decay``.

    Example::

        Trainer(logger=CSVLogger("logs"), callbacks=[LearningRateMonitor(logging_interval="step")])
        # metrics.csv gets a column "lr-SGD"
    """

    def __init__(self, logging_interval: str | None = None, log_momentum: bool = False, log_weight_decay: bool = False) -> None:
        if logging_interval not in (None, "step", "epoch"):
            raise MisconfigurationException(invalid_choice("LearningRateMonitor(logging_interval)", logging_interval, (None, "step", "epoch")))
        self.logging_interval = logging_interval
        self.log_momentum = log_momentum
        self.log_weight_decay = log_weight_decay
        self.lrs: dict[str, list[float]] = {}
        self.last_momentum_values: dict[str, float | None] = {}
        self.last_weight_decay_values: dict[str, float | None] = {}

    def on_train_start(self, trainer, *args: Any, **kwargs: Any) -> None:
        if not trainer.loggers:
            raise MisconfigurationException(
                "Cannot use `LearningRateMonitor` callback with `Trainer` that has no logger. Pass a logger, e.g. "
                "`Trainer(logger=CSVLogger('logs'))`, or remove the callback."
            )
        if self.log_momentum:
            def _no_key(key: str) -> bool:
                if trainer.lr_scheduler_configs:
                    return any(key not in c.scheduler.optimizer.defaults for c in trainer.lr_scheduler_configs)
                return any(key not in o.defaults for o in trainer.optimizers)

            if _no_key("momentum") and _no_key("betas"):
                rank_zero_warn("You have set log_momentum=True, but some optimizers do not have momentum. "
                               "This will log a value 0 for the momentum.", category=RuntimeWarning)
        names = self._all_names(trainer)
        flat = list(itertools.chain.from_iterable(names))
        self.lrs = {name: [] for name in flat}
        self.last_momentum_values = {name + "-momentum": None for name in flat}
        self.last_weight_decay_values = {name + "-weight_decay": None for name in flat}

    def on_train_batch_start(self, trainer, *args: Any, **kwargs: Any) -> None:
        if self.logging_interval == "epoch" or not _should_update_logs(trainer):
            return
        interval = "step" if self.logging_interval is None else "any"
        self._log(trainer, self._extract_stats(trainer, interval))

    def on_train_epoch_start(self, trainer, *args: Any, **kwargs: Any) -> None:
        if self.logging_interval == "step":
            return
        interval = "epoch" if self.logging_interval is None else "any"
        self._log(trainer, self._extract_stats(trainer, interval))

    # -- helpers
    @staticmethod
    def _log(trainer, stats: dict[str, float]) -> None:
        if not stats:
            return
        step = trainer._progress.batches_that_stepped
        for lg in trainer.loggers:
            lg.log_metrics(stats, step=step)

    def _all_names(self, trainer) -> list[list[str]]:
        names, seen, seen_types = self._find_names_from_schedulers(trainer.lr_scheduler_configs)
        opt_names, _ = self._find_names_from_optimizers(trainer.optimizers, seen, seen_types)
        return names + opt_names

    def _extract_stats(self, trainer, interval: str) -> dict[str, float]:
        stats: dict[str, float] = {}
        configs = trainer.lr_scheduler_configs
        names, seen, seen_types = self._find_names_from_schedulers(configs)
        self._remap_keys(names)
        for group_names, config in zip(names, configs):
            if interval in (config.interval, "any"):
                stats.update(self._get_optimizer_stats(config.scheduler.optimizer, group_names))
        opt_names, without_scheduler = self._find_names_from_optimizers(trainer.optimizers, seen, seen_types)
        self._remap_keys(opt_names)
        for opt, group_names in zip(without_scheduler, opt_names):
            stats.update(self._get_optimizer_stats(opt, group_names))
        device = trainer.strategy.root_device
        trainer.callback_metrics.update({k: torch.tensor(v, device=device) for k, v in stats.items()})
        return stats

    def _remap_keys(self, names: list[list[str]], token: str = "/pg1") -> None:
        """A parameter group added after the start (e.g. by finetuning) renames ``name`` to ``name/pg1``."""
        for group_names in names:
            for new_name in group_names:
                old_name = new_name.replace(token, "")
                if token in new_name and old_name in self.lrs:
                    self.lrs[new_name] = self.lrs.pop(old_name)
                elif new_name not in self.lrs:
                    self.lrs[new_name] = []

    def _get_optimizer_stats(self, optimizer, names: list[str]) -> dict[str, float]:
        stats: dict[str, float] = {}
        use_betas = "betas" in optimizer.defaults
        for pg, name in zip(optimizer.param_groups, names):
            lr = pg["lr"]
            lr = lr.item() if isinstance(lr, torch.Tensor) else lr
            self.lrs.setdefault(name, []).append(lr)
            stats[name] = lr
            if self.log_momentum:
                momentum = pg["betas"][0] if use_betas else pg.get("momentum", 0)
                self.last_momentum_values[f"{name}-momentum"] = momentum
                stats[f"{name}-momentum"] = momentum
            if self.log_weight_decay:
                wd = pg.get("weight_decay", 0)
                self.last_weight_decay_values[f"{name}-weight_decay"] = wd
                stats[f"{name}-weight_decay"] = wd
        return stats

    def _find_names_from_schedulers(self, configs: list) -> tuple[list[list[str]], list, defaultdict]:
        names: list[list[str]] = []
        seen: list = []
        seen_types: defaultdict = defaultdict(int)
        for config in configs:
            opt = config.scheduler.optimizer
            name = config.name if config.name is not None else "lr-" + type(opt).__name__
            names.append(self._check_duplicates_and_update_name(opt, name, seen, seen_types, config))
        return names, seen, seen_types

    def _find_names_from_optimizers(self, optimizers: list, seen: list, seen_types: defaultdict) -> tuple[list[list[str]], list]:
        names: list[list[str]] = []
        without_scheduler = []
        for opt in optimizers:
            opt = getattr(opt, "optimizer", opt) if not isinstance(opt, torch.optim.Optimizer) else opt
            if any(opt is s for s in seen) or isinstance(opt, NoOptimizer):
                continue
            name = "lr-" + type(opt).__name__
            names.append(self._check_duplicates_and_update_name(opt, name, seen, seen_types, None))
            without_scheduler.append(opt)
        return names, without_scheduler

    def _check_duplicates_and_update_name(self, optimizer, name: str, seen: list, seen_types: defaultdict, config) -> list[str]:
        seen.append(optimizer)
        cls = type(optimizer)
        if config is None or config.name is None:
            seen_types[cls] += 1
        groups = optimizer.param_groups
        group_names = [g.get("name", f"pg{i + 1}") for i, g in enumerate(groups)]
        duplicates = sorted({n for n in group_names if group_names.count(n) > 1})
        if duplicates:
            raise MisconfigurationException(
                f"A single `Optimizer` cannot have multiple parameter groups with identical `name` values. {name} has "
                f"duplicated parameter group names {duplicates}"
            )
        if cls in seen_types and seen_types[cls] > 1:
            name = f"{name}-{seen_types[cls] - 1}"
        return [self._add_suffix(name, groups, i) for i in range(len(groups))]

    @staticmethod
    def _add_suffix(name: str, groups: list, index: int) -> str:
        if len(groups) > 1:
            return f"{name}/{groups[index].get('name', f'pg{index + 1}')}"
        pg_name = groups[index].get("name")
        return f"{name}/{pg_name}" if pg_name else name


def _should_update_logs(trainer) -> bool:
    """Lightning's ``should_update_logs``: every ``log_every_n_steps`` (counted before the step) or when stopping."""
    n = trainer.log_every_n_steps
    if not n:
        return False
    return (trainer._progress.batches_that_stepped + 1) % n == 0 or trainer.should_stop
