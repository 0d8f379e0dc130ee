"""What ``self.log`` records: per-hook rules, per-step values and per-epoch reductions.

Values are kept as detached tensors on the device they were logged from; nothing here reads a value
to the host. Loggers and the progress bar convert them when (and only when) they write.

Where a logged value shows, as in Lightning:

- ``trainer.callback_metrics``: the training loop's step values as they are logged, and every epoch
  value (an evaluation batch's value is not something to monitor, so evaluation step values stay out);
- ``trainer.logged_metrics``: what goes to the loggers (``logger=True``, the default);
- ``trainer.progress_bar_metrics``: ``prog_bar=True``.

Logged with both ``on_step`` and ``on_epoch``, a value shows as ``name_step`` and ``name_epoch`` (and as
``name`` in callback_metrics); logged while one of several evaluation loaders runs, its names end in
``/dataloader_idx_N``. A loop's values are kept until the end of its epoch, then dropped.
"""
from typing import Any

import torch
from torch import nn

from runtime.utilities.exceptions import MisconfigurationException

# hook -> (allowed on_step values, allowed on_epoch values, default on_step, default on_epoch); None: no logging there
_STEP = ((False, True), (False, True), True, False)
_EVAL_STEP = ((False, True), (False, True), False, True)
_EPOCH = ((False,), (True,), False, True)
_TRAIN_BATCH_HOOKS = (
    "training_step", "training_step_end", "on_train_batch_start", "on_train_batch_end", "on_before_backward",
    "backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad", "optimizer_step",
    "optimizer_zero_grad", "configure_gradient_clipping", "clip_gradients",
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
_NO_LOG_HOOKS = (
    "on_fit_start", "on_fit_end", "on_sanity_check_start", "on_sanity_check_end", "on_train_end",
    "on_validation_end", "on_test_end", "setup", "teardown", "prepare_data", "configure_callbacks",
    "configure_sharded_model", "configure_model", "configure_optimizers", "lr_scheduler_step", "on_exception",
    "train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader",
    "on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer",
    "state_dict", "load_state_dict", "on_save_checkpoint", "on_load_checkpoint",
    "on_validation_model_zero_grad", "on_validation_model_eval", "on_validation_model_train",
    "on_test_model_eval", "on_test_model_train", "on_predict_model_eval",
    "predict_step", "on_predict_start", "on_predict_end", "on_predict_epoch_start", "on_predict_epoch_end",
    "on_predict_batch_start", "on_predict_batch_end",
)
LOG_RULES: dict[str, tuple | None] = {
    **dict.fromkeys(_TRAIN_BATCH_HOOKS, _STEP), **dict.fromkeys(_EVAL_BATCH_HOOKS, _EVAL_STEP),
    **dict.fromkeys(_EPOCH_HOOKS, _EPOCH), **dict.fromkeys(_NO_LOG_HOOKS, None),
}

_REDUCE = {"mean": "mean", "avg": "mean", "sum": "sum", "max": "max", "min": "min"}
_TORCH_REDUCE = {torch.mean: "mean", torch.sum: "sum", torch.max: "max", torch.min: "min", max: "max", min: "min",
                 sum: "sum"}
_F32, _F64 = torch.float32, torch.float64


def _reduce_name(reduce_fx: Any) -> str:
    if isinstance(reduce_fx, str) and reduce_fx.lower() in _REDUCE:
        return _REDUCE[reduce_fx.lower()]
    if reduce_fx in _TORCH_REDUCE:
        return _TORCH_REDUCE[reduce_fx]
    raise MisconfigurationException(  # Lightning's wording: code and tests match on it
        "Only `self.log(..., reduce_fx={min,max,mean,sum})` are supported. If you need a custom reduction, please "
        f"log a `torchmetrics.Metric` instance instead. Found: {reduce_fx}"
    )


def _is_metric(value: Any) -> bool:
    return isinstance(value, nn.Module) and callable(getattr(value, "compute", None)) and callable(getattr(value, "reset", None))


class _Logged:
    """One logged key: the options of its first call, its last step value and its epoch accumulation."""

    __slots__ = ("key", "fx", "name", "args", "dataloader_idx", "on_step", "on_epoch", "reduce", "prog_bar", "logger",
                 "enable_graph", "sync", "forked", "full_name", "step_name", "epoch_name", "metric", "last", "total",
                 "weight", "computed")

    def __init__(self, key: tuple, fx: str, name: str, args: tuple, dataloader_idx: int | None, on_step: bool,
                 on_epoch: bool, reduce: str, suffix: str, sync: bool) -> None:
        prog_bar, logger, _, _, _, enable_graph = args[:6]
        self.key, self.fx, self.name, self.args, self.dataloader_idx = key, fx, name, args, dataloader_idx
        self.on_step, self.on_epoch, self.reduce, self.sync = on_step, on_epoch, reduce, sync
        self.prog_bar, self.logger, self.enable_graph = bool(prog_bar), logger is None or bool(logger), bool(enable_graph)
        self.forked = on_step and on_epoch
        self.full_name = name + suffix
        self.step_name = f"{name}_step{suffix}" if self.forked else self.full_name
        self.epoch_name = f"{name}_epoch{suffix}" if self.forked else self.full_name
        self.metric: Any = None  # a Metric object: computed and reset at epoch end
        self.last: torch.Tensor | None = None  # the last step value
        self.total: torch.Tensor | None = None  # the epoch accumulation (weighted sum for "mean")
        self.weight = 0  # the batch sizes accumulated, for "mean"
        self.computed: torch.Tensor | None = None  # the epoch value, once the epoch has ended

    @property
    def value(self) -> torch.Tensor | None:
        """What has been accumulated (``Lightning``'s name): the running reduction, or the last step value."""
        return self.total if self.on_epoch and self.metric is None else self.last

    @property
    def cumulated_batch_size(self) -> int:
        return self.weight

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
            value = self.metric.compute()
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"The `.compute()` return of the metric logged as {self.name!r} must be a tensor. Found {value}")
            return value.detach()
        if self.total is None:
            return None
        total = self.total
        if self.sync:
            total = strategy.reduce(total, "sum" if self.reduce in ("mean", "sum") else self.reduce)
        if self.reduce == "mean":
            weight = self.weight
            if self.sync:
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
    """The values logged during one loop (training, validation or test) of one run.

    ``trainer._results`` is the one recording now; ``results["fx.name"]`` (``"fx.name.N"`` for loader N) is
    a logged key, as Lightning's result collection names them.
    """

    def __init__(self, training: bool) -> None:
        self.training = training
        self.items: dict[tuple, _Logged] = {}
        self.step_logged: dict[str, torch.Tensor] = {}  # logger-bound step values since the last write
        self.batch: Any = None  # the batch running, for its size
        self.batch_size: int | None = None  # of the current batch, found once when first needed
        self.dataloader_idx: int | None = None  # the evaluation loader running, when there are several
        self.epoch_ended = False  # the epoch-end hooks run: a value logged now shows its epoch value at once

    def new_batch(self, batch: Any) -> None:
        self.batch, self.batch_size = batch, None

    def __getitem__(self, key: str) -> _Logged:
        for item in self.items.values():
            if ".".join(str(k) for k in item.key) == key:
                return item
        raise KeyError(key)

    def log(self, trainer, fx: str, name: str, value: Any, prog_bar: bool, logger: bool | None, on_step: bool | None,
            on_epoch: bool | None, reduce_fx: Any, enable_graph: bool, sync_dist: bool, add_dataloader_idx: bool,
            batch_size: int | None, module: Any = None, metric_attribute: str | None = None) -> None:
        dl = self.dataloader_idx
        key = (fx, name) if dl is None or not add_dataloader_idx else (fx, name, dl)
        args = (prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist, add_dataloader_idx, dl)
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = self._new_item(trainer, module, key, fx, name, value, args, metric_attribute)
        elif args != item.args:
            _check_same_options(item, args)
        if item.metric is not None:
            self._log_metric(trainer, item, value)
            return
        if type(value) is torch.Tensor and value.ndim == 0 and (value.dtype is _F32 or value.dtype is _F64):
            tensor = value
        else:
            tensor = _as_scalar(name, value, fx)
        if not item.enable_graph:
            tensor = tensor.detach()
        if item.on_step:
            step_value = tensor
            if item.sync:
                step_value = trainer.strategy.reduce(tensor, "sum" if item.reduce == "sum" else item.reduce)
            item.last = step_value
            self._publish(trainer, item, step_value, True)
        if item.on_epoch:
            if batch_size is None:
                if item.reduce == "mean":
                    if self.batch_size is None:
                        self.batch_size = (extract_batch_size(self.batch) or 1) if self.batch is not None else 1
                    batch_size = self.batch_size
                else:
                    batch_size = 1
            item.accumulate(tensor, int(batch_size))
            if self.epoch_ended:
                self._publish_epoch_item(trainer, item)

    def _new_item(self, trainer, module, key: tuple, fx: str, name: str, value: Any, args: tuple,
                  metric_attribute: str | None) -> _Logged:
        """Check a first call's options against Lightning's rules, and make its record."""
        prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist, add_dataloader_idx, dl = args
        on_step, on_epoch = check_hook(fx, name, on_step, on_epoch)
        if not isinstance(name, str) or not name:
            raise MisconfigurationException(f"self.log() needs a non-empty string name, got {name!r}.")
        if add_dataloader_idx and "/dataloader_idx_" in name:
            raise MisconfigurationException(
                f"You called `self.log` with the key `{name}` but it should not contain information about "
                "`dataloader_idx` when `add_dataloader_idx=True`: drop the suffix (it is added for you), or pass "
                "`add_dataloader_idx=False`."
            )
        reduce = _reduce_name(reduce_fx)
        is_metric = not isinstance(value, torch.Tensor) and _is_metric(value)
        if is_metric and metric_attribute is None and module is not None:
            _check_metric_attribute(module, name, value)
        suffix = f"/dataloader_idx_{dl}" if add_dataloader_idx and dl is not None else ""
        sync = bool(sync_dist) and trainer.strategy.world_size > 1
        item = _Logged(key, fx, name, args, dl, on_step, on_epoch, reduce, suffix, sync)
        if is_metric:
            item.metric = value
        return item

    def _log_metric(self, trainer, item: _Logged, metric: Any) -> None:
        """A Metric object: its last ``forward`` value per step, ``compute()`` at epoch end."""
        if not _is_metric(metric):
            raise MisconfigurationException(
                f"self.log({item.name!r}, ...) in `{item.fx}` logged a Metric before and now a {type(metric).__name__}; "
                "log one kind of value under one name."
            )
        item.metric = metric
        if item.on_step:
            cached = getattr(metric, "_forward_cache", None)
            if isinstance(cached, torch.Tensor):
                item.last = cached.detach()
                self._publish(trainer, item, item.last, True)
        if item.on_epoch and self.epoch_ended:
            self._publish_epoch_item(trainer, item)

    def _publish(self, trainer, item: _Logged, value: torch.Tensor, on_step: bool) -> None:
        """Show a step value or an epoch value where ``item`` goes: the callback metrics (not an evaluation
        batch's value: it is no monitor), the progress bar, the loggers."""
        name = item.step_name if on_step else item.epoch_name
        if self.training or not on_step:
            metrics = trainer.callback_metrics
            metrics[item.full_name] = value
            if item.forked:
                metrics[name] = value
        if item.prog_bar:
            trainer._progress_bar_metrics[name] = value
        if item.logger:
            trainer.logged_metrics[name] = value
            if on_step:
                self.step_logged[name] = value

    def _publish_epoch_item(self, trainer, item: _Logged) -> None:
        value = item.computed = item.epoch_value(trainer.strategy)
        if value is not None:
            self._publish(trainer, item, value, on_step=False)

    def publish_epoch(self, trainer) -> None:
        """The epoch is over: reduce every on_epoch value into the trainer's metrics, before the epoch-end hooks
        run (so callbacks and the module see them there); what those hooks log shows at once."""
        self.epoch_ended = True
        self.batch = self.batch_size = None
        self.dataloader_idx = None
        for item in self.items.values():
            if item.on_epoch:
                self._publish_epoch_item(trainer, item)

    def epoch_logged(self, dataloader_idx: Any = ...) -> dict[str, torch.Tensor]:
        """The logger-bound epoch values (of the values logged while loader ``dataloader_idx`` ran, when given)."""
        return {
            item.epoch_name: item.computed for item in self.items.values()
            if item.on_epoch and item.logger and item.computed is not None
            and (dataloader_idx is ... or item.dataloader_idx == dataloader_idx)
        }

    def epoch_end(self) -> dict[str, torch.Tensor]:
        """The logger-bound epoch values; then the epoch is forgotten."""
        logged = self.epoch_logged()
        self.reset()
        return logged

    def reset(self) -> None:
        """Forget the epoch: Metric objects logged are reset, every other value is dropped."""
        for item in self.items.values():
            if item.metric is not None:
                item.metric.reset()
        self.items.clear()
        self.step_logged.clear()
        self.batch = self.batch_size = None
        self.dataloader_idx = None
        self.epoch_ended = False


def check_hook(fx: str, name: str, on_step: bool | None, on_epoch: bool | None) -> tuple[bool, bool]:
    """``fx`` may log, with these levels; returns them with the hook's defaults filled in."""
    if fx not in LOG_RULES:
        raise MisconfigurationException(
            f"self.log({name!r}, ...) is not allowed in `{fx}`: nothing is recorded there. Log from the step hooks "
            "(`training_step`, `validation_step`, `test_step`), the batch hooks or the epoch hooks instead."
        )
    rules = LOG_RULES[fx]
    if rules is None:
        raise MisconfigurationException(
            f"You can't `self.log()` inside `{fx}`. HINT: You can still log directly to the logger by using "
            "`self.logger.experiment`."
        )
    allowed_step, allowed_epoch, default_step, default_epoch = rules
    on_step = default_step if on_step is None else bool(on_step)
    on_epoch = default_epoch if on_epoch is None else bool(on_epoch)
    if on_step not in allowed_step:
        raise MisconfigurationException(f"You can't `self.log(on_step={on_step})` inside `{fx}`, must be one of {allowed_step}.")
    if on_epoch not in allowed_epoch:
        raise MisconfigurationException(f"You can't `self.log(on_epoch={on_epoch})` inside `{fx}`, must be one of {allowed_epoch}.")
    if not on_step and not on_epoch:
        raise MisconfigurationException(
            f"`self.log(on_step=False, on_epoch=False)` is not useful: {name!r} would be shown nowhere. "
            "Set `on_step=True` or `on_epoch=True`."
        )
    return on_step, on_epoch


def _check_same_options(item: _Logged, args: tuple) -> None:
    """A key logged again in the same hook must use the options of its first call (Lightning's rule)."""
    prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist, add_idx, dl = args
    same = (
        bool(prog_bar) == item.prog_bar and (logger is None or bool(logger)) == item.logger
        and check_hook(item.fx, item.name, on_step, on_epoch) == (item.on_step, item.on_epoch)
        and _reduce_name(reduce_fx) == item.reduce and bool(enable_graph) == item.enable_graph
        and bool(sync_dist) == bool(item.args[6]) and bool(add_idx) == bool(item.args[7]) and dl == item.dataloader_idx
    )
    if not same:
        raise MisconfigurationException(
            f"You called `self.log({item.name}, ...)` twice in `{item.fx}` with different arguments. This is not "
            "allowed: log it with the same options each time, or under another name."
        )
    item.args = args  # the same options spelled differently: compare against this spelling from now on


def _check_metric_attribute(module: Any, name: str, metric: Any) -> None:
    """A Metric logged must be an attribute of the module (its state then moves, saves and resets with it)."""
    attributes = {id(m): n for n, m in module.named_modules() if m is not module and _is_metric(m)}
    if not attributes:
        raise MisconfigurationException(
            "Could not find the `LightningModule` attribute for the `torchmetrics.Metric` logged. You can fix this "
            "by setting an attribute for the metric in your `LightningModule`."
        )
    if id(metric) not in attributes:
        raise MisconfigurationException(
            "Could not find the `LightningModule` attribute for the `torchmetrics.Metric` logged. You can fix this by "
            f"calling `self.log({name}, ..., metric_attribute=name)` where `name` is one of {list(attributes.values())}"
        )


# ------------------------------------------------------------------------------------ the sink
def log_value(trainer, module, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph,
              sync_dist, sync_dist_group, add_dataloader_idx, batch_size, rank_zero_only, metric_attribute=None) -> None:
    """``self.log`` (as ``trainer._results_log``): record ``value`` in the results of the loop running in the
    trainer's current run; where it is called from is checked the first time a name is logged in a hook."""
    if trainer.flags.barebones:
        trainer._warn_once("self.log() does nothing under `Trainer(barebones=True)`: logging costs speed, so barebones turns it off.")
        return
    fx = trainer._hooks.current_fx or module._current_fx_name
    if fx is None:
        raise MisconfigurationException(
            f"self.log({name!r}, ...) was called outside the Trainer's hooks; log from `training_step`, "
            "`validation_step`, `on_train_epoch_end` and the other step and epoch hooks."
        )
    results = trainer._run.results
    if results is None and (results := trainer._results) is None:  # (the property: the training stage's own)
        check_hook(fx, name, on_step, on_epoch)
        raise MisconfigurationException(f"self.log({name!r}, ...) in `{fx}` ran while no loop is active.")
    results.log(trainer, fx, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist,
                add_dataloader_idx, batch_size, module, metric_attribute)


def log_step_metrics(trainer, results: Results) -> None:
    """Send this batch's logger-bound step values to the loggers, every ``log_every_n_steps``."""
    step_logged = results.step_logged
    if not step_logged:
        return
    every = trainer.flags.log_every_n_steps
    if every and ((trainer._progress.batches_that_stepped + 1) % every == 0 or trainer.should_stop
                  or trainer.flags.fast_dev_run):
        send_to_loggers(trainer, step_logged)
    step_logged.clear()


def send_to_loggers(trainer, metrics: dict[str, torch.Tensor], step: int | None = None, epoch_end: bool = False) -> None:
    """Record ``metrics`` as logged and write them (read to the host here, only here) to every logger.

    Without ``step`` (training, and the end of an evaluation), the values go out at the training step, with
    ``epoch`` added (a logged ``step`` value is the step instead); ``epoch_end``: the training epoch's values,
    logged at the step of its last batch."""
    if not metrics:
        return
    trainer.logged_metrics.update(metrics)
    if not trainer.loggers:
        return
    scalars = {k: (v.item() if isinstance(v, torch.Tensor) else float(v)) for k, v in metrics.items()}
    if step is None:
        logged_step = scalars.pop("step", None)
        if logged_step is not None:
            step = int(logged_step)
        else:
            scalars.setdefault("epoch", trainer.current_epoch)
            step = trainer._progress.batches_that_stepped
            if epoch_end:
                step = max(step - 1, 0)
    for lg in trainer.loggers:
        lg.log_metrics(metrics=scalars, step=step)


def _as_scalar(name: str, value: Any, fx: str) -> torch.Tensor:
    """``value`` as a one-element floating tensor (float32 unless it is float64), or Lightning's error."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(  # Lightning's wording first: code and tests match on it
                f"`self.log({name}, {value})` was called, but the tensor must have a single element. You can try "
                f"doing `self.log({name}, {value}.mean())` (in `{fx}`), or log each element under its own name."
            )
        value = value.squeeze() if value.ndim else value
        return value if value.dtype is _F32 or value.dtype is _F64 else value.to(_F32)
    if isinstance(value, (bool, int, float)):
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
