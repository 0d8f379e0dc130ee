"""Running aggregates of logged values: ``MeanMetric``, ``SumMetric``, ``MaxMetric``, ``MinMetric``, ``CatMetric``.

    mean = MeanMetric()
    mean.update(torch.tensor([1.0, 2.0]))
    mean.update(3.0, weight=2.0)
    mean.compute()  # (1 + 2 + 3 * 2) / 4 = 2.25

NaN handling (``nan_strategy``): "warn" (default) and "ignore" drop NaNs, "error" raises, "disable" keeps
them, a float replaces them. The check that finds NaNs reads data, so on an accelerator its warning or error
comes from ``compute`` rather than ``update`` (update never waits on the device).
"""
from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from runtime.metrics.metric import Metric
from runtime.metrics.utilities import to_tensor

_NAN_STRATEGIES = ("error", "warn", "ignore", "disable")


class _Aggregator(Metric):
    def __init__(self, fn: str, default: Tensor | list, nan_strategy: str | float = "warn", state_name: str = "value", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(nan_strategy, float) and nan_strategy not in _NAN_STRATEGIES:
            raise ValueError(f"`nan_strategy` must be one of {_NAN_STRATEGIES} or a float, got {nan_strategy!r}.")
        self.nan_strategy = nan_strategy
        self.add_state(state_name, default=default, dist_reduce_fx=fn)

    def _cast_and_nan_check(self, x: Any, weight: Any = None) -> tuple[Tensor, Tensor]:
        x = to_tensor(x, "value", dtype=torch.float32, device=self.device)
        if not x.is_floating_point():
            x = x.float()
        x = x.to(self.device)
        weight = torch.ones_like(x) if weight is None else to_tensor(weight, "weight", dtype=x.dtype, device=self.device)
        try:
            weight = torch.broadcast_to(weight, x.shape)
        except RuntimeError as err:
            raise ValueError(f"`weight` of shape {tuple(weight.shape)} does not broadcast to `value` of shape {tuple(x.shape)}.") from err
        if self.nan_strategy == "disable":
            return x, weight
        nans = torch.isnan(x) | torch.isnan(weight)
        if isinstance(self.nan_strategy, float):
            return torch.where(nans, torch.full_like(x, self.nan_strategy), x), torch.where(torch.isnan(weight), torch.ones_like(weight), weight)
        message = f"{type(self).__name__}: encountered NaN in `value` or `weight`"
        if self.nan_strategy == "error":
            from runtime.metrics.utilities import check_values

            check_values(nans, message + " (nan_strategy='error').", self._deferred)
        elif self.nan_strategy == "warn" and x.device.type == "cpu" and bool(nans.any()):
            warnings.warn(message + "; they are ignored (nan_strategy='warn').", UserWarning, stacklevel=3)
        keep = ~nans
        return torch.where(keep, x, torch.zeros_like(x)), torch.where(keep, weight, torch.zeros_like(weight)), keep


class SumMetric(_Aggregator):
    """Sum of every value seen."""

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("sum", torch.tensor(0.0), nan_strategy, state_name="sum_value", **kwargs)

    def update(self, value: Any) -> None:
        x, _, *_ = self._cast_and_nan_check(value)
        self.sum_value += x.sum()

    def compute(self) -> Tensor:
        return self.sum_value


class MaxMetric(_Aggregator):
    """Largest value seen (``-inf`` before any)."""

    higher_is_better = True

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("max", torch.tensor(-float("inf")), nan_strategy, state_name="max_value", **kwargs)

    def update(self, value: Any) -> None:
        x, _, *keep = self._cast_and_nan_check(value)
        if keep:
            x = torch.where(keep[0], x, torch.full_like(x, -float("inf")))
        if x.numel():
            self.max_value = torch.maximum(self.max_value, x.max())

    def compute(self) -> Tensor:
        return self.max_value


class MinMetric(_Aggregator):
    """Smallest value seen (``inf`` before any)."""

    higher_is_better = False

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("min", torch.tensor(float("inf")), nan_strategy, state_name="min_value", **kwargs)

    def update(self, value: Any) -> None:
        x, _, *keep = self._cast_and_nan_check(value)
        if keep:
            x = torch.where(keep[0], x, torch.full_like(x, float("inf")))
        if x.numel():
            self.min_value = torch.minimum(self.min_value, x.min())

    def compute(self) -> Tensor:
        return self.min_value


class CatMetric(_Aggregator):
    """Every value seen, concatenated (flattened) in order."""

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("cat", [], nan_strategy, state_name="value", **kwargs)

    def update(self, value: Any) -> None:
        x, _, *keep = self._cast_and_nan_check(value)
        x = x.reshape(-1)
        if keep:  # dropping NaNs changes the length, which reads the mask: only on this path
            x = x[keep[0].reshape(-1)]
        if x.numel():
            self.value.append(x)

    def compute(self) -> Tensor:
        return torch.cat(self.value) if self.value else torch.tensor([], device=self.device)


class MeanMetric(_Aggregator):
    """Weighted mean of every value seen: ``sum(value * weight) / sum(weight)``."""

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("sum", torch.tensor(0.0), nan_strategy, state_name="mean_value", **kwargs)
        self.add_state("weight", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: Any, weight: Any = 1.0) -> None:
        x, w, *_ = self._cast_and_nan_check(value, weight)
        self.mean_value += (x * w).sum()
        self.weight += w.sum()

    def compute(self) -> Tensor:
        return self.mean_value / self.weight
