"""Regression metrics; each keeps summable statistics ("sum" states) from ``functional.regression``.

    mse = MeanSquaredError()
    mse(preds, target)       # this batch
    mse.compute()            # every batch since reset(); RMSE with MeanSquaredError(squared=False)
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from runtime.metrics.functional import regression as F
from runtime.metrics.metric import Metric
from runtime.metrics.utilities import accumulation_dtype, check_choice, check_positive_int


class _SumStates(Metric):
    """A metric whose states are sums named in ``_names``, filled by ``_update_fn``."""

    _names: tuple[str, ...] = ()

    def _sum_states(self, shape: tuple = (), dtype: torch.dtype = torch.float32) -> None:
        for name in self._names:
            self.add_state(name, default=torch.zeros(shape, dtype=dtype), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def _add(self, *stats: Tensor) -> None:
        for name, value in zip((*self._names, "total"), stats):
            setattr(self, name, getattr(self, name) + value)

    def _stats(self) -> tuple[Tensor, ...]:
        return tuple(getattr(self, n) for n in (*self._names, "total"))


class MeanSquaredError(_SumStates):
    """Mean squared error; root mean squared error with ``squared=False``."""

    is_differentiable, higher_is_better = True, False
    _names = ("sum_squared_error",)

    def __init__(self, squared: bool = True, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.squared, self.num_outputs = squared, check_positive_int("num_outputs", num_outputs)
        self._sum_states(() if num_outputs == 1 else (num_outputs,))

    def update(self, preds: Tensor, target: Tensor) -> None:
        self._add(*F.mean_squared_error_update(preds, target, self.num_outputs))

    def compute(self) -> Tensor:
        mse = self.sum_squared_error / self.total
        return mse if self.squared else mse.sqrt()


class MeanAbsoluteError(_SumStates):
    """Mean absolute error."""

    is_differentiable, higher_is_better = True, False
    _names = ("sum_abs_error",)

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_outputs = check_positive_int("num_outputs", num_outputs)
        self._sum_states(() if num_outputs == 1 else (num_outputs,))

    def update(self, preds: Tensor, target: Tensor) -> None:
        self._add(*F.mean_absolute_error_update(preds, target, self.num_outputs))

    def compute(self) -> Tensor:
        return self.sum_abs_error / self.total


class MeanAbsolutePercentageError(_SumStates):
    """Mean of |preds - target| / max(|target|, 1.17e-06), as a fraction (torchmetrics' convention)."""

    is_differentiable, higher_is_better = True, False
    _names = ("sum_abs_per_error",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sum_states()
        # targets at 0, counted on the device (no sync in update) and reported by compute
        self.add_state("zero_targets", default=torch.tensor(0), dist_reduce_fx="sum", persistent=False)

    def update(self, preds: Tensor, target: Tensor) -> None:
        total, count, zero_targets = F.mean_absolute_percentage_error_update(preds, target)
        self._add(total, count)
        self.zero_targets = self.zero_targets + zero_targets

    def compute(self) -> Tensor:
        F.warn_zero_targets(int(self.zero_targets))
        return self.sum_abs_per_error / self.total


class _MomentMetric(_SumStates):
    def __init__(self, num_outputs: int = 1, multioutput: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_outputs = check_positive_int("num_outputs", num_outputs)
        if multioutput is not None:
            check_choice("multioutput", multioutput, F.MULTIOUTPUT)
        self.multioutput = multioutput
        self._sum_states(() if num_outputs == 1 else (num_outputs,), accumulation_dtype())


class R2Score(_MomentMetric):
    """Coefficient of determination; ``adjusted`` = number of regressors; ``multioutput`` for (N, D) inputs."""

    higher_is_better = True
    _names = ("sum_obs", "sum_squared_obs", "rss")

    def __init__(self, num_outputs: int = 1, adjusted: int = 0, multioutput: str = "uniform_average", **kwargs: Any) -> None:
        super().__init__(num_outputs, multioutput, **kwargs)
        if isinstance(adjusted, bool) or not isinstance(adjusted, int) or adjusted < 0:
            raise ValueError(f"`adjusted` must be a non-negative int, got {adjusted!r}.")
        self.adjusted = adjusted

    def update(self, preds: Tensor, target: Tensor) -> None:
        self._add(*F.r2_score_update(preds, target, self.num_outputs))

    def compute(self) -> Tensor:
        return F.r2_score_compute(*self._stats(), adjusted=self.adjusted, multioutput=self.multioutput)


class ExplainedVariance(_MomentMetric):
    """1 - Var(target - preds) / Var(target)."""

    higher_is_better = True
    _names = ("sum_error", "sum_squared_error", "sum_target", "sum_squared_target")

    def __init__(self, multioutput: str = "uniform_average", num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_outputs, multioutput, **kwargs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        self._add(*F.explained_variance_update(preds, target, self.num_outputs))

    def compute(self) -> Tensor:
        return F.explained_variance_compute(*self._stats(), multioutput=self.multioutput)


class PearsonCorrCoef(_MomentMetric):
    """Pearson correlation between ``preds`` and ``target`` (per output with ``num_outputs`` > 1)."""

    higher_is_better = True
    _names = ("sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy")

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_outputs, None, **kwargs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        self._add(*F.pearson_corrcoef_update(preds, target, self.num_outputs))

    def compute(self) -> Tensor:
        return F.pearson_corrcoef_compute(*self._stats())


class CosineSimilarity(Metric):
    """Cosine similarity of each (preds[i], target[i]); ``reduction`` "sum" (default), "mean" or "none"."""

    higher_is_better = True

    def __init__(self, reduction: str | None = "sum", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice("reduction", reduction, F.COSINE_REDUCTIONS)
        self.reduction = reduction
        if reduction in ("sum", "mean"):
            self.add_state("sim_sum", default=torch.tensor(0.0), dist_reduce_fx="sum")
            self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")
        else:
            self.add_state("sims", default=[], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        sims = F.cosine_similarity_update(preds, target)
        if self.reduction in ("sum", "mean"):
            self.sim_sum += sims.sum()
            self.total += sims.numel()
        else:
            self.sims.append(sims)

    def compute(self) -> Tensor:
        if self.reduction == "sum":
            return self.sim_sum
        if self.reduction == "mean":
            return self.sim_sum / self.total
        return torch.cat(self.sims) if self.sims else torch.tensor([], device=self.device)
