"""Functional regression metrics, each split into ``*_update`` (summable statistics of one batch) and
``*_compute`` (the value from summed statistics). The class metrics keep the statistics as "sum" states,
so the value over batches or processes equals the value on their concatenation.

Variances are taken from sums (sum x, sum x^2); those sums are kept in float64, where float32 would lose
most digits to cancellation when the mean is large next to the spread.

    >>> mean_squared_error(torch.tensor([2.5, 0.0, 2.0]), torch.tensor([3.0, -0.5, 2.0]))
    tensor(0.1667)
"""
from __future__ import annotations

import torch
from torch import Tensor

from runtime.metrics.utilities import accumulation_dtype, as_input, check_choice, check_same_shape, safe_divide

MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")


def _pair(preds: Tensor, target: Tensor, num_outputs: int = 1) -> tuple[Tensor, Tensor]:
    preds, target = as_input(preds, "preds"), as_input(target, "target")
    check_same_shape(preds, target)
    if num_outputs > 1 and (preds.ndim != 2 or preds.shape[1] != num_outputs):
        raise ValueError(f"`preds` and `target` must be (N, num_outputs={num_outputs}), got {tuple(preds.shape)}.")
    preds = preds if preds.is_floating_point() else preds.float()
    target = target if target.is_floating_point() else target.float()
    return preds, target


def _total(x: Tensor, num_outputs: int) -> Tensor:
    return x.sum() if num_outputs == 1 else x.sum(0)


def _count(preds: Tensor, num_outputs: int) -> Tensor:
    n = preds.numel() if num_outputs == 1 else preds.shape[0]
    return torch.tensor(n, device=preds.device)


def mean_squared_error_update(preds: Tensor, target: Tensor, num_outputs: int = 1) -> tuple[Tensor, Tensor]:
    preds, target = _pair(preds, target, num_outputs)
    return _total((preds - target) ** 2, num_outputs), _count(preds, num_outputs)


def mean_squared_error(preds: Tensor, target: Tensor, squared: bool = True, num_outputs: int = 1) -> Tensor:
    """Mean of (preds - target)^2; its square root (RMSE) with ``squared=False``."""
    sse, n = mean_squared_error_update(preds, target, num_outputs)
    mse = sse / n
    return mse if squared else mse.sqrt()


def mean_absolute_error_update(preds: Tensor, target: Tensor, num_outputs: int = 1) -> tuple[Tensor, Tensor]:
    preds, target = _pair(preds, target, num_outputs)
    return _total((preds - target).abs(), num_outputs), _count(preds, num_outputs)


def mean_absolute_error(preds: Tensor, target: Tensor, num_outputs: int = 1) -> Tensor:
    """Mean of |preds - target|."""
    sae, n = mean_absolute_error_update(preds, target, num_outputs)
    return sae / n


MAPE_EPSILON = 1.17e-06


def mean_absolute_percentage_error_update(preds: Tensor, target: Tensor, epsilon: float = MAPE_EPSILON) -> tuple[Tensor, Tensor, Tensor]:
    """(sum of errors, count, count of targets with |target| < epsilon): those dominate the mean."""
    preds, target = _pair(preds, target)
    magnitude = target.abs()
    return (preds - target).abs().div(magnitude.clamp(min=epsilon)).sum(), _count(preds, 1), (magnitude < epsilon).sum()


def warn_zero_targets(near_zero: int) -> None:
    """torchmetrics divides by 1.17e-06 where a target is 0, which makes the mean huge without a word: same
    value here, with the reason said (one message, so Python shows it once)."""
    if near_zero:
        from runtime.utilities.rank_zero import rank_zero_warn

        rank_zero_warn(
            f"MeanAbsolutePercentageError: some targets are 0 (|target| < {MAPE_EPSILON}); their "
            f"errors are divided by {MAPE_EPSILON} (as torchmetrics does) and dominate the result. A percentage error "
            "is undefined at 0: use MeanAbsoluteError (or MeanSquaredError) for such targets."
        )


def mean_absolute_percentage_error(preds: Tensor, target: Tensor) -> Tensor:
    """Mean of |preds - target| / max(|target|, 1.17e-06) (a fraction, not a percentage, as in torchmetrics);
    warns when targets are 0, where that is a division by 1.17e-06."""
    s, n, near_zero = mean_absolute_percentage_error_update(preds, target)
    warn_zero_targets(int(near_zero))
    return s / n


def _moments_update(preds: Tensor, target: Tensor, num_outputs: int) -> tuple[Tensor, Tensor, int]:
    preds, target = _pair(preds, target, num_outputs)
    dtype = accumulation_dtype(preds.device)
    if num_outputs == 1:
        preds, target = preds.reshape(-1), target.reshape(-1)
    return preds.to(dtype), target.to(dtype), preds.shape[0]


def r2_score_update(preds: Tensor, target: Tensor, num_outputs: int = 1) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(sum target, sum target^2, residual sum of squares, n)."""
    p, t, n = _moments_update(preds, target, num_outputs)
    return t.sum(0), (t * t).sum(0), ((t - p) ** 2).sum(0), torch.tensor(n, device=p.device)


def r2_score_compute(sum_obs: Tensor, sum_sq_obs: Tensor, rss: Tensor, n: Tensor, adjusted: int = 0,
                     multioutput: str = "uniform_average") -> Tensor:
    check_choice("multioutput", multioutput, MULTIOUTPUT)
    if isinstance(adjusted, bool) or not isinstance(adjusted, int) or adjusted < 0:
        raise ValueError(f"`adjusted` must be a non-negative int, got {adjusted!r}.")
    tss = sum_sq_obs - sum_obs * sum_obs / n
    # scikit-learn's force_finite: a constant target scores 1 when predicted exactly, else 0
    raw = torch.where(tss == 0, (rss == 0).to(tss.dtype), 1 - rss / torch.where(tss == 0, torch.ones_like(tss), tss))
    if multioutput == "raw_values":
        r2 = raw
    elif multioutput == "uniform_average":
        r2 = raw.mean()
    else:
        r2 = safe_divide((tss * raw).sum(), tss.sum(), 1.0)
    if adjusted:  # applied only where defined (more samples than regressors + 1); decided on the device
        adj = 1 - (1 - r2) * (n - 1) / (n - adjusted - 1).clamp(min=1)
        r2 = torch.where(n - 1 > adjusted, adj, r2)
    # fewer than two samples: undefined (nan), decided on the device so a batch value never syncs
    return torch.where(n < 2, torch.full_like(r2, float("nan")), r2).float()


def r2_score(preds: Tensor, target: Tensor, adjusted: int = 0, multioutput: str = "uniform_average") -> Tensor:
    """Coefficient of determination, 1 - RSS / TSS."""
    num_outputs = preds.shape[1] if preds.ndim == 2 else 1
    return r2_score_compute(*r2_score_update(preds, target, num_outputs), adjusted=adjusted, multioutput=multioutput)


def explained_variance_update(preds: Tensor, target: Tensor, num_outputs: int = 1) -> tuple[Tensor, ...]:
    """(sum error, sum error^2, sum target, sum target^2, n) with error = target - preds."""
    p, t, n = _moments_update(preds, target, num_outputs)
    e = t - p
    return e.sum(0), (e * e).sum(0), t.sum(0), (t * t).sum(0), torch.tensor(n, device=p.device)


def explained_variance_compute(sum_error: Tensor, sum_sq_error: Tensor, sum_target: Tensor, sum_sq_target: Tensor, n: Tensor,
                               multioutput: str = "uniform_average") -> Tensor:
    check_choice("multioutput", multioutput, MULTIOUTPUT)
    num = sum_sq_error / n - (sum_error / n) ** 2
    den = sum_sq_target / n - (sum_target / n) ** 2
    raw = torch.where(den == 0, (num == 0).to(den.dtype), 1 - num / torch.where(den == 0, torch.ones_like(den), den))
    if multioutput == "raw_values":
        return raw.float()
    if multioutput == "uniform_average":
        return raw.mean().float()
    return safe_divide((den * raw).sum(), den.sum(), 1.0).float()


def explained_variance(preds: Tensor, target: Tensor, multioutput: str = "uniform_average") -> Tensor:
    """1 - Var(target - preds) / Var(target)."""
    num_outputs = preds.shape[1] if preds.ndim == 2 else 1
    return explained_variance_compute(*explained_variance_update(preds, target, num_outputs), multioutput=multioutput)


def pearson_corrcoef_update(preds: Tensor, target: Tensor, num_outputs: int = 1) -> tuple[Tensor, ...]:
    """(sum x, sum y, sum x^2, sum y^2, sum xy, n) with x = preds, y = target."""
    x, y, n = _moments_update(preds, target, num_outputs)
    return x.sum(0), y.sum(0), (x * x).sum(0), (y * y).sum(0), (x * y).sum(0), torch.tensor(n, device=x.device)


def pearson_corrcoef_compute(sx: Tensor, sy: Tensor, sxx: Tensor, syy: Tensor, sxy: Tensor, n: Tensor) -> Tensor:
    cov = n * sxy - sx * sy
    var_x = (n * sxx - sx * sx).clamp(min=0)
    var_y = (n * syy - sy * sy).clamp(min=0)
    return (cov / (var_x * var_y).sqrt()).clamp(-1.0, 1.0).float()


def pearson_corrcoef(preds: Tensor, target: Tensor) -> Tensor:
    """Pearson correlation coefficient (nan when either input is constant)."""
    num_outputs = preds.shape[1] if preds.ndim == 2 else 1
    return pearson_corrcoef_compute(*pearson_corrcoef_update(preds, target, num_outputs))


COSINE_REDUCTIONS = ("sum", "mean", "none", None)


def cosine_similarity_update(preds: Tensor, target: Tensor) -> Tensor:
    """Per-sample cosine similarity along the last dimension."""
    preds, target = _pair(preds, target)
    if preds.ndim < 2:
        raise ValueError(f"`preds` and `target` must be (N, D) (vectors along the last dimension), got {tuple(preds.shape)}.")
    dot = (preds * target).sum(-1)
    return dot / (preds.norm(dim=-1) * target.norm(dim=-1))


def cosine_similarity(preds: Tensor, target: Tensor, reduction: str | None = "sum") -> Tensor:
    """Cosine similarity of each (preds[i], target[i]), reduced by "sum" (default, as torchmetrics), "mean" or "none"."""
    check_choice("reduction", reduction, COSINE_REDUCTIONS)
    sims = cosine_similarity_update(preds, target)
    return sims.sum() if reduction == "sum" else sims.mean() if reduction == "mean" else sims
