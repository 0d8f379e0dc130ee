"""What ``self.log`` records: per-hook rules, per-step values and per-epoch reductions.

Values are kept as detached tensors on the device they were logged from; nothing here reads a value
to the host. Loggers and the progress bar convert them when (and only when) they write.
"""
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice

# hook name -> (allowed on_step values, allowed on_epoch values, default on_step, default on_epoch)
_BATCH = ((False, True), (False, True), True, False)
_EVAL_BATCH = ((False, True), (False, True), False, True)
_EPOCH = ((False,), (True,), False, True)
_TRAIN_BATCH_HOOKS = (
    "training_step", "training_step_end", "on_train_batch_start", "on_train_batch_end", "on_before_backward",
    "backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad", "optimizer_step",
    "optimizer_zero_grad", "configure_gradient_clipping", "clip_gradients", "lr_scheduler_step",
)
_EVAL_BATCH_HOOKS = (
    "validation_step", "validation_step_end", "on_validation_batch_start", "on_validation_batch_end",
    "test_step", "test_step_end", "on_test_batch_start", "on_test_batch_end",
)
_EPOCH_HOOKS = (
    "on_train_start", "on_train_epoch_start", "on_train_epoch_end", "training_epoch_end",
    "on_validation_start", "on_validation_epoch_start", "on_validation_epoch_end", "validation_epoch_end",
    "on_test_start", "on_test_epoch_start", "on_test_epoch_end", "test_epoch_end",
    "on_epoch_start", "on_epoch_end",  # 1.x
)
LOG_RULES = {**{h: _BATCH for h in _TRAIN_BATCH_HOOKS}, **{h: _EVAL_BATCH for h in _EVAL_BATCH_HOOKS}, **{h: _EPOCH for h in _EPOCH_HOOKS}}

_REDUCE = {"mean": "mean", "avg": "mean", "sum": "sum", "max": "max", "min": "min"}
_TORCH_REDUCE = {torch.mean: "mean", torch.sum: "sum", torch.max: "max", torch.min: "min", max: "max", min: "min",
                 sum: "sum"}


def _reduce_name(reduce_fx: Any) -> str:
    if isinstance(reduce_fx, str) and reduce_fx.lower() in _REDUCE:
        return _REDUCE[reduce_fx.lower()]
    if reduce_fx in _TORCH_REDUCE:
        return _TORCH_REDUCE[reduce_fx]
    raise MisconfigurationException(invalid_choice("self.log(reduce_fx)", reduce_fx, ("mean", "sum", "max", "min")))


def _is_metric(value: Any) -> bool:
    return isinstance(value, nn.Module) and callable(getattr(value, "compute", None)) and callable(getattr(value, "reset", None))


@dataclass(eq=False)
class _Logged:
    name: str
    on_step: bool
    on_epoch: bool
    reduce: str
    prog_bar: bool
    logger: bool
    sync_dist: bool
    metric: Any = None  # a Metric object: computed and reset at epoch end
    value: torch.Tensor | None = None  # last step value
    total: torch.Tensor | None = None  # epoch accumulation
    weight: float = 0.0

    def __post_init__(self) -> None:
        self.forked = self.on_step and self.on_epoch  # logged both ways: published as name_step and name_epoch
        self.step_name = self.name + "_step" if self.forked else self.name

    def accumulate(self, value: torch.Tensor, batch_size: int) -> None:
        if self.total is None:
            self.total = value * batch_size if self.reduce == "mean" else value.clone()
        elif self.reduce == "mean":
            self.total = self.total + value * batch_size
        elif self.reduce == "sum":
            self.total = self.total + value
        elif self.reduce == "max":
            self.total = torch.maximum(self.total, value)
        else:
            self.total = torch.minimum(self.total, value)
        self.weight += batch_size

    def epoch_value(self, strategy) -> torch.Tensor | None:
        if self.metric is not None:
            return self.metric.compute()
        if self.total is None:
            return None
        total = self.total
        if self.sync_dist and strategy.world_size > 1:
            total = strategy.reduce(total, "sum" if self.reduce in ("mean", "sum") else self.reduce)
        if self.reduce == "mean":
            weight = self.weight
            if self.sync_dist and strategy.world_size > 1:
                weight = strategy.reduce(torch.tensor(float(weight), device=total.device), "sum")
            return total / weight
        return total


def extract_batch_size(batch: Any) -> int:
    """The size of the first dimension of the first tensor found in ``batch`` (1 if none)."""
    if isinstance(batch, torch.Tensor):
        return batch.size(0) if batch.ndim else 1
    if isinstance(batch, (str, bytes)):
        return len(batch)
    if isinstance(batch, dict):
        batch = list(batch.values())
    elif hasattr(batch, "__dataclass_fields__"):
        batch = [getattr(batch, f) for f in batch.__dataclass_fields__]
    if isinstance(batch, (list, tuple)):
        for item in batch:
            size = extract_batch_size(item)
            if size is not None:
                return size
    return None


class Results:
    """The values logged during one loop (training, validation or test) of one run."""

    def __init__(self, training: bool) -> None:
        self.training = training
        self.items: dict[tuple[str, str], _Logged] = {}
        self.step_logged: dict[str, torch.Tensor] = {}  # logger-bound step values since the last write
        self.batch: Any = None  # the batch running, for its size
        self.batch_size: int | None = None  # of the current batch, found once when first needed

    def new_batch(self, batch: Any) -> None:
        self.batch, self.batch_size = batch, None

    def log(self, trainer, fx: str, name: str, value: Any, prog_bar: bool, logger: bool | None, on_step: bool | None,
            on_epoch: bool | None, reduce_fx: Any, enable_graph: bool, sync_dist: bool, add_dataloader_idx: bool,
            batch_size: int | None) -> None:
        key = (fx, name)
        item = self.items.get(key)
        if item is None:
            allowed_step, allowed_epoch, default_step, default_epoch = LOG_RULES[fx]
            on_step = default_step if on_step is None else bool(on_step)
            on_epoch = default_epoch if on_epoch is None else bool(on_epoch)
            if on_step not in allowed_step or on_epoch not in allowed_epoch:
                raise MisconfigurationException(
                    f"self.log({name!r}, on_step={on_step}, on_epoch={on_epoch}) is not allowed in `{fx}`: "
                    f"on_step must be one of {allowed_step} and on_epoch one of {allowed_epoch} there."
                )
            reduce = _reduce_name(reduce_fx)
            if _is_metric(value) and reduce != "mean":
                raise MisconfigurationException(f"self.log({name!r}, metric) reduces through the metric itself; drop reduce_fx={reduce_fx!r}.")
            item = _Logged(name, on_step, on_epoch, reduce, bool(prog_bar), True if logger is None else bool(logger), bool(sync_dist))
            self.items[key] = item
        if not isinstance(value, torch.Tensor) and _is_metric(value):
            item.metric = value
            cached = getattr(value, "_forward_cache", None)
            if item.on_step:
                tensor = cached if isinstance(cached, torch.Tensor) else value.compute()
                item.value = tensor.detach()
                self._publish_step(trainer, item)
            return
        tensor = value if type(value) is torch.Tensor and value.ndim == 0 else _as_scalar(name, value, fx)
        if not enable_graph:
            tensor = tensor.detach()
        if item.on_step:
            if item.sync_dist and trainer.strategy.world_size > 1:
                tensor = trainer.strategy.reduce(tensor, "sum" if item.reduce == "sum" else item.reduce)
            item.value = tensor
            self._publish_step(trainer, item)
        if item.on_epoch:
            if item.reduce == "mean":
                if batch_size is None:
                    if self.batch_size is None:
                        self.batch_size = extract_batch_size(self.batch) or 1
                    batch_size = self.batch_size
            item.accumulate(tensor if tensor.is_floating_point() else tensor.float(), int(batch_size or 1))

    def _publish_step(self, trainer, item: _Logged) -> None:
        name = item.step_name
        trainer.callback_metrics[item.name] = item.value
        if item.forked:
            trainer.callback_metrics[name] = item.value
        if item.prog_bar:
            trainer.progress_bar_metrics[name] = item.value
        if item.logger:
            self.step_logged[name] = item.value

    def epoch_end(self, trainer) -> dict[str, torch.Tensor]:
        """Publish the epoch values a last time (with what the epoch-end hooks logged), then reset; returns the logger-bound values."""
        logged = self.publish_epoch(trainer)
        for item in self.items.values():
            if item.metric is not None and item.on_epoch:
                item.metric.reset()
        self.reset()
        return logged

    def publish_epoch(self, trainer) -> dict[str, torch.Tensor]:
        """Reduce every on_epoch value into ``callback_metrics`` (and the progress bar); returns the logger-bound ones.

        Called before the epoch-end hooks too, so callbacks and the module see the epoch values there.
        """
        logged: dict[str, torch.Tensor] = {}
        for item in self.items.values():
            if not item.on_epoch:
                continue
            value = item.epoch_value(trainer.strategy)
            if value is None:
                continue
            value = value.detach() if isinstance(value, torch.Tensor) else torch.tensor(value)
            name = item.name + "_epoch" if item.forked else item.name
            trainer.callback_metrics[item.name] = value
            if item.forked:
                trainer.callback_metrics[name] = value
            if item.prog_bar:
                trainer.progress_bar_metrics[name] = value
            if item.logger:
                logged[name] = value
        return logged

    def reset(self) -> None:
        self.items.clear()
        self.step_logged.clear()
        self.batch = None


# ------------------------------------------------------------------------------------ the sink
def log_value(trainer, module, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph,
              sync_dist, sync_dist_group, add_dataloader_idx, batch_size, rank_zero_only) -> None:
    """``self.log`` (as ``trainer._results_log``): check where it is called from, then record ``value`` in the
    results of the loop running in the trainer's current run."""
    run = trainer._run
    if trainer.flags.barebones:
        trainer._warn_once("self.log() does nothing under `Trainer(barebones=True)`: logging costs speed, so barebones turns it off.")
        return
    fx = trainer._hooks.current_fx
    if fx is None:
        raise MisconfigurationException(
            f"self.log({name!r}, ...) was called outside the Trainer's hooks; log from `training_step`, "
            "`validation_step`, `on_train_epoch_end` and the other step and epoch hooks."
        )
    if fx not in LOG_RULES:
        raise MisconfigurationException(
            f"self.log({name!r}, ...) is not allowed in `{fx}`: nothing is recorded there. Log from the step hooks "
            "(`training_step`, `validation_step`, `test_step`), the batch hooks or the epoch hooks instead."
        )
    results = run.results
    if results is None:
        raise MisconfigurationException(f"self.log({name!r}, ...) in `{fx}` ran while no loop is active.")
    if not isinstance(name, str) or not name:
        raise MisconfigurationException(f"self.log() needs a non-empty string name, got {name!r}.")
    if add_dataloader_idx and run.dataloader_idx is not None:
        name = f"{name}/dataloader_idx_{run.dataloader_idx}"
    results.log(trainer, fx, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist,
                add_dataloader_idx, batch_size)


def log_step_metrics(trainer, results: Results) -> None:
    """Send this batch's logger-bound step values to the loggers, every ``log_every_n_steps``."""
    step_logged = results.step_logged
    if not step_logged:
        return
    every = trainer.flags.log_every_n_steps
    if every and ((trainer._progress.batches_that_stepped + 1) % every == 0 or trainer.should_stop):
        send_to_loggers(trainer, step_logged)
    step_logged.clear()


def send_to_loggers(trainer, metrics: dict[str, torch.Tensor], step: int | None = None, epoch_end: bool = False) -> None:
    """Record ``metrics`` as logged and write them (read to the host here, only here) to every logger.

    ``epoch_end``: the training epoch's values, logged at the step of its last batch."""
    if not metrics:
        return
    trainer.logged_metrics.update(metrics)
    if not trainer.loggers:
        return
    if step is None:
        step = trainer._progress.batches_that_stepped
        if epoch_end:
            step = max(step - 1, 0)
    scalars = {k: (v.item() if isinstance(v, torch.Tensor) else float(v)) for k, v in metrics.items()}
    scalars.setdefault("epoch", trainer.current_epoch)
    for lg in trainer.loggers:
        lg.log_metrics(scalars, step=step)


def _as_scalar(name: str, value: Any, fx: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"self.log({name!r}, value) in `{fx}` got a tensor of shape {tuple(value.shape)}; a logged value must "
                f"have a single element. Log a reduction such as `value.mean()`, or log each element under its own name."
            )
        return value.squeeze() if value.ndim else value
    if isinstance(value, bool):
        return torch.tensor(float(value))
    if isinstance(value, (int, float)):
        return torch.tensor(float(value))
    try:
        import numpy as np

        if isinstance(value, np.ndarray | np.generic) and np.size(value) == 1:
            return torch.tensor(float(value))
    except ImportError:
        pass
    raise ValueError(  # Lightning's wording first: code and tests match on it
        f"`self.log({name}, {value})` was called, but `{type(value).__name__}` values cannot be logged: in `{fx}`, log "
        "a number, a one-element tensor or a Metric."
    )


def print_results(results: list[dict[str, float]], stage: str) -> None:
    """The table ``validate`` / ``test`` print (``verbose=True``): one block per dataloader."""
    for i, metrics in enumerate(results):
        if not metrics:
            continue
        title = f"{stage.capitalize()} metric" + (f" (dataloader {i})" if len(results) > 1 else "")
        width = max(len(title), *(len(k) for k in metrics))
        print("-" * (width + 16))
        print(f"{title:<{width}}  {'value':>12}")
        for k, v in sorted(metrics.items()):
            print(f"{k:<{width}}  {v:>12.6g}")
        print("-" * (width + 16))
