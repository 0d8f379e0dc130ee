"""``Metric``: state declared once with its reduction, accumulated by ``update``, synchronised in ``compute``.

    class MyAccuracy(Metric):
        def __init__(self, dist_sync_on_step=False):
            super().__init__(dist_sync_on_step=dist_sync_on_step)
            self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
            self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

        def update(self, preds, target):
            preds, target = self._input_format(preds, target)
            self.correct += torch.sum(preds == target)
            self.total += target.numel()

        def compute(self):
            return self.correct.float() / self.total

Subclasses write plain ``update`` and ``compute``; ``__init_subclass__`` wraps them once per class so that
``update`` runs without autograd and invalidates the cached value, and ``compute`` checks deferred input
errors, synchronises across processes, computes, restores the local state and caches the result.
"""
from __future__ import annotations

import functools
import warnings
from copy import deepcopy
from typing import Any, Callable

import torch
from torch import Tensor, nn

from runtime.metrics import distributed
from runtime.metrics.utilities import check_choice

_REDUCTIONS = ("sum", "mean", "cat", "min", "max", None)
_MERGEABLE = ("sum", "mean", "cat", "min", "max")


def _wrap_update(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def update(self: Metric, *args: Any, **kwargs: Any) -> None:
        if self._in_update:  # a subclass calling super().update(): count the update once
            return fn(self, *args, **kwargs)
        self._in_update = True
        self._computed = None
        self._update_count += 1
        if not self._in_forward:
            self._forward_cache = None  # a step-level log must not read a batch value from an older forward
        try:
            with torch.set_grad_enabled(self._enable_grad):
                return fn(self, *args, **kwargs)
        finally:
            self._in_update = False

    update._metric_wrapped = True
    return update


def _wrap_compute(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def compute(self: Metric) -> Any:
        if self._in_compute:  # super().compute() inside compute: already synced
            return fn(self)
        self._raise_deferred()
        if self._update_count == 0 and not distributed.distributed_available():
            warnings.warn(
                f"{type(self).__name__}.compute() was called before any update(); the value is computed from the "
                f"default states and may be nan or meaningless.",
                UserWarning,
                stacklevel=2,
            )
        if self._computed is not None:
            return self._computed
        value = self._compute_synced(fn, self.sync_on_compute)
        if self.compute_with_cache:
            self._computed = value
        return value

    compute._metric_wrapped = True
    return compute


class Metric(nn.Module):
    """Base class of every metric: ``add_state`` in ``__init__``, then implement ``update`` and ``compute``.

    ``forward(*batch)`` updates the running state once and returns the value of this batch alone;
    ``compute()`` returns the value over everything since the last ``reset()``, synchronised across
    processes when torch.distributed is initialised with more than one process.
    """

    full_state_update: bool | None = None  # True: forward calls update twice instead of merging states
    is_differentiable: bool = False
    higher_is_better: bool | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, wrap in (("update", _wrap_update), ("compute", _wrap_compute)):
            fn = cls.__dict__.get(name)
            if fn is not None and not getattr(fn, "_metric_wrapped", False):
                setattr(cls, name, wrap(fn))

    def __init__(
        self,
        compute_on_step: bool | None = None,
        dist_sync_on_step: bool = False,
        process_group: Any = None,
        dist_sync_fn: Callable | None = None,
        sync_on_compute: bool = True,
        compute_with_cache: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if kwargs:
            allowed = ("compute_on_step", "dist_sync_on_step", "process_group", "dist_sync_fn", "sync_on_compute", "compute_with_cache")
            from runtime.utilities.suggest import nearest

            bad = next(iter(kwargs))
            hint = nearest(bad, allowed)
            raise TypeError(
                f"{type(self).__name__} got an unexpected keyword argument {bad!r}."
                + (f" Did you mean {hint!r}?" if hint else f" Metric arguments: {', '.join(allowed)}.")
            )
        if dist_sync_fn is not None and not callable(dist_sync_fn):
            raise ValueError(f"`dist_sync_fn` must be callable or None, got {dist_sync_fn!r}.")
        self.compute_on_step = True if compute_on_step is None else bool(compute_on_step)
        self.dist_sync_on_step = bool(dist_sync_on_step)
        self.process_group = process_group
        self.dist_sync_fn = dist_sync_fn
        self.sync_on_compute = bool(sync_on_compute)
        self.compute_with_cache = bool(compute_with_cache)
        self._defaults: dict[str, Tensor | list] = {}
        self._reductions: dict[str, Any] = {}
        self._persistent: dict[str, bool] = {}
        self._update_count = 0
        self._computed: Any = None
        self._forward_cache: Any = None
        self._deferred: dict[str, Tensor] = {}  # input errors found on an accelerator, raised by compute
        self._in_update = self._in_compute = self._in_forward = False
        self._enable_grad = False
        self._device = torch.device("cpu")

    # ------------------------------------------------------------------ state
    def add_state(self, name: str, default: Tensor | list, dist_reduce_fx: str | Callable | None = None, persistent: bool = False) -> None:
        """Declare a state: a tensor (or an empty list to collect tensors) and how processes combine it.

        ``dist_reduce_fx`` is "sum", "mean", "cat", "min", "max", None (keep every process's value, stacked)
        or a callable that receives the states of all processes stacked along a new first dimension.
        """
        if not isinstance(default, (Tensor, list)) or (isinstance(default, list) and default):
            raise ValueError(f"add_state({name!r}): `default` must be a tensor or an empty list, got {default!r}.")
        if not callable(dist_reduce_fx):
            check_choice(f"add_state({name!r}) dist_reduce_fx", dist_reduce_fx, _REDUCTIONS)
        if not name.isidentifier() or hasattr(type(self), name):
            raise ValueError(f"add_state: {name!r} is not a valid state name (not an identifier, or it shadows an attribute).")
        if isinstance(default, Tensor):
            default = default.detach().clone().to(self._device)
        self._defaults[name] = default
        self._reductions[name] = dist_reduce_fx
        self._persistent[name] = bool(persistent)
        setattr(self, name, default.clone() if isinstance(default, Tensor) else [])

    def _states(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._defaults}

    def _set_states(self, states: dict[str, Any]) -> None:
        for name, value in states.items():
            setattr(self, name, value)

    def reset(self) -> None:
        """Back to the default states (new tensors: references held elsewhere are not modified)."""
        self._update_count = 0
        self._computed = None
        self._forward_cache = None
        self._deferred = {}
        for name, default in self._defaults.items():
            setattr(self, name, default.detach().clone().to(self._device) if isinstance(default, Tensor) else [])

    def persistent(self, mode: bool = False) -> None:
        """Include (or not) every state in ``state_dict``."""
        for name in self._persistent:
            self._persistent[name] = mode

    # ------------------------------------------------------------------ compute and sync
    def _raise_deferred(self) -> None:
        for message, flag in self._deferred.items():
            if bool(flag):
                self._deferred = {}
                raise ValueError(message)

    def _compute_synced(self, fn: Callable, should_sync: bool) -> Any:
        """Sync states (if distributed), run ``fn``, restore the local states so accumulation continues."""
        local = None
        if should_sync and distributed.distributed_available():
            local = self._states()
            self._set_states(distributed.sync_states(local, self._reductions, self.process_group, self.dist_sync_fn, self._device))
        self._in_compute = True
        try:
            return fn(self)
        finally:
            self._in_compute = False
            if local is not None:
                self._set_states(local)

    def sync(self) -> dict[str, Any] | None:
        """Replace the local states by the synchronised ones; returns the local ones for ``unsync``."""
        if not distributed.distributed_available():
            return None
        local = self._states()
        self._set_states(distributed.sync_states(local, self._reductions, self.process_group, self.dist_sync_fn, self._device))
        return local

    def unsync(self, local: dict[str, Any] | None) -> None:
        if local is not None:
            self._set_states(local)

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Update the running state with this batch and return the metric of this batch alone."""
        if not self.compute_on_step:
            self.update(*args, **kwargs)
            return None
        mergeable = not self.full_state_update and all(fx in _MERGEABLE for fx in self._reductions.values())
        self._in_forward = True
        try:
            value = self._forward_merge(*args, **kwargs) if mergeable else self._forward_full(*args, **kwargs)
        finally:
            self._in_forward = False
        self._forward_cache = value
        return value

    def _batch_value(self) -> Any:
        raw = type(self).compute
        raw = getattr(raw, "__wrapped__", raw)
        self._raise_deferred()
        with torch.set_grad_enabled(self._enable_grad):
            return self._compute_synced(raw, self.dist_sync_on_step)

    def _forward_merge(self, *args: Any, **kwargs: Any) -> Any:
        # one update on fresh states gives the batch value; the running states are then merged with it
        running, count, deferred = self._states(), self._update_count, self._deferred
        self.reset()
        self._enable_grad = self.is_differentiable and torch.is_grad_enabled()
        try:
            self.update(*args, **kwargs)
            value = self._batch_value()
        finally:
            self._enable_grad = False
        batch = self._states()
        for name, fx in self._reductions.items():
            setattr(self, name, _merge(running[name], batch[name], fx, count))
        for message, flag in deferred.items():
            self._deferred[message] = flag | self._deferred[message] if message in self._deferred else flag
        self._update_count = count + 1
        self._computed = None
        return value

    def _forward_full(self, *args: Any, **kwargs: Any) -> Any:
        # states that cannot be merged (reduction None or a callable): update the running state, then
        # again on fresh states for the batch value -- twice the update cost, only for such metrics
        self.update(*args, **kwargs)
        running, count, deferred = self._states(), self._update_count, self._deferred
        self.reset()
        self._enable_grad = self.is_differentiable and torch.is_grad_enabled()
        try:
            self.update(*args, **kwargs)
            value = self._batch_value()
        finally:
            self._enable_grad = False
        self._set_states(running)
        self._update_count, self._deferred, self._computed = count, deferred, None
        return value

    # ------------------------------------------------------------------ devices and state_dict
    def _apply(self, fn: Callable, *args: Any, **kwargs: Any) -> Metric:
        # states follow the module's device, never its dtype (model.half() must not round counts or sums)
        super()._apply(fn, *args, **kwargs)
        probe = fn(torch.zeros((), device=self._device))
        device = probe.device
        if device == self._device:
            return self

        def move(t: Tensor) -> Tensor:
            if device.type == "mps" and t.dtype == torch.float64:
                t = t.float()
            return t.to(device)

        self._device = device
        for name in self._defaults:
            value = getattr(self, name)
            setattr(self, name, [move(v) for v in value] if isinstance(value, list) else move(value))
            if isinstance(self._defaults[name], Tensor):
                self._defaults[name] = move(self._defaults[name])
        self._deferred = {k: v.to(device) for k, v in self._deferred.items()}
        if isinstance(self._computed, Tensor):
            self._computed = self._computed.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return self._device

    def set_dtype(self, dtype: torch.dtype) -> Metric:
        """Convert floating-point states to ``dtype`` (``.half()``/``.double()`` on a parent leave them alone)."""
        for name in self._defaults:
            value = getattr(self, name)
            conv = lambda t: t.to(dtype) if t.is_floating_point() else t  # noqa: E731
            setattr(self, name, [conv(v) for v in value] if isinstance(value, list) else conv(value))
            if isinstance(self._defaults[name], Tensor):
                self._defaults[name] = conv(self._defaults[name])
        return self

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, keep in self._persistent.items():
            if keep:
                value = getattr(self, name)
                destination[prefix + name] = [v.detach().clone() for v in value] if isinstance(value, list) else value.detach().clone()

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        for name in self._defaults:
            key = prefix + name
            if key in state_dict:
                value = state_dict.pop(key)
                setattr(self, name, [v.to(self._device) for v in value] if isinstance(value, list) else value.to(self._device))
                self._computed = None
                self._update_count = max(self._update_count, 1)  # restored data counts as updated
            elif self._persistent[name] and strict:
                missing_keys.append(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    def clone(self) -> Metric:
        return deepcopy(self)

    # ------------------------------------------------------------------ Lightning 1.0 helpers
    def _input_format(self, preds: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Lightning 1.0: (N, C, ...) scores -> labels by argmax; same-shape floats -> 0/1 at ``threshold``."""
        if preds.ndim not in (target.ndim, target.ndim + 1):
            raise ValueError(
                f"`preds` must have the shape of `target` (labels or probabilities) or one more dimension (class "
                f"scores), got preds {tuple(preds.shape)} and target {tuple(target.shape)}."
            )
        if preds.ndim == target.ndim + 1:
            preds = preds.argmax(dim=1)
        elif preds.is_floating_point():
            preds = (preds >= getattr(self, "threshold", 0.5)).to(target.dtype)
        return preds, target


def _merge(running: Any, batch: Any, fx: str, count: int) -> Any:
    if isinstance(running, list):
        return running + batch
    if fx == "sum":
        return running + batch
    if fx == "max":
        return torch.maximum(running, batch)
    if fx == "min":
        return torch.minimum(running, batch)
    if fx == "cat":
        return torch.cat([running.reshape(-1) if running.ndim == 0 else running, batch.reshape(-1) if batch.ndim == 0 else batch])
    # "mean": the running value is the mean over `count` updates
    return (running * count + batch) / (count + 1) if count else batch
