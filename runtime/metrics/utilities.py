"""Input checks shared by the metrics: every error names the argument and says what was expected.

Shape and dtype checks read only tensor metadata, so they are free. Checks on *values* (a label outside
``num_classes``, a target that is not 0/1) have to look at the data, which on an accelerator means a
host-device synchronisation. ``check_values`` therefore raises at once for CPU tensors and for the
functional forms, but inside a metric's ``update`` on an accelerator it only records a device-side flag;
the metric raises the same error at ``compute`` (which synchronises anyway). ``update`` stays sync-free.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor

from runtime.utilities.suggest import invalid_choice

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("micro", "macro", "weighted", "none")


def to_tensor(value: Any, name: str, dtype: torch.dtype | None = None, device: torch.device | None = None) -> Tensor:
    """``value`` as a tensor (numbers and sequences are converted); a clear error otherwise."""
    if isinstance(value, Tensor):
        return value if device is None else value.to(device)
    try:
        return torch.as_tensor(value, dtype=dtype or torch.get_default_dtype(), device=device)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"`{name}` must be a tensor or a number, got {type(value).__name__}.") from err


def as_input(value: Any, name: str) -> Tensor:
    """A metric input as a tensor: tensors as they are; numpy arrays, lists and numbers converted with their
    own dtype (integer labels stay integers); anything else a clear error naming the argument."""
    if isinstance(value, Tensor):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"`{name}` must hold numbers, got a numpy array of dtype {value.dtype}.")
        return torch.from_numpy(value.copy() if not value.flags.writeable else value) if value.ndim else torch.as_tensor(value.item())
    if isinstance(value, (list, tuple, int, float, bool)):
        try:
            return torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"`{name}` must be a tensor, a numpy array or a (nested) list of numbers: {err}.") from None
    raise TypeError(f"`{name}` must be a tensor, a numpy array or a list of numbers, got {type(value).__name__}.")


def check_no_nan(preds: Tensor, deferred: dict | None = None) -> None:
    """Float ``preds`` must not hold NaN: a NaN score has no class (argmax calls an all-NaN row class 0, and a
    threshold calls NaN negative), so it would be counted as if valid. ``max`` propagates NaN, so this is one
    reduction (about 5 us for 256x10 on CPU, half of ``isnan().any()``); on a device it is deferred (no sync)."""
    if not preds.is_floating_point() or not preds.numel():
        return
    message = ("`preds` holds NaN: the model produced NaN scores (look at the loss, the learning rate or the inputs); "
               "NaN cannot be scored, so it is refused rather than counted.")
    top = preds.max()
    if checked_now(preds, deferred):
        value = float(top)
        if value != value:
            raise ValueError(message)
        return
    check_values(top.isnan(), message, deferred)


def check_same_shape(preds: Tensor, target: Tensor, what: str = "`preds` and `target`") -> None:
    if preds.shape != target.shape:
        raise ValueError(f"{what} must have the same shape, got {tuple(preds.shape)} and {tuple(target.shape)}.")


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ValueError(invalid_choice(name, value, allowed))


def check_task(task: Any, metric: str) -> str:
    if task is None:
        raise ValueError(
            f"{metric} needs `task`: one of 'binary', 'multiclass', 'multilabel' "
            f"(with `num_classes` for multiclass, `num_labels` for multilabel)."
        )
    check_choice("task", task, TASKS)
    return task


def check_positive_int(name: str, value: Any, minimum: int = 1, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}{why}, got {value!r}.")
    return value


def check_probability(name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a float in [0, 1], got {value!r}.")
    return float(value)


def check_integer_tensor(name: str, tensor: Tensor) -> None:
    if tensor.is_floating_point() or tensor.is_complex():
        raise ValueError(f"`{name}` must hold integer labels, got dtype {tensor.dtype}.")


def check_values(bad: Tensor, message: str, deferred: dict | None = None) -> None:
    """Raise ``ValueError(message)`` if any element of the boolean tensor ``bad`` is set.

    With ``deferred`` (a metric's record) and an accelerator tensor, the check is recorded instead of read,
    so the caller does not synchronise; ``Metric.compute`` raises it later.
    """
    if deferred is None or bad.device.type == "cpu":
        if bool(bad.any()):
            raise ValueError(message)
        return
    flag = bad.any()
    previous = deferred.get(message)
    deferred[message] = flag if previous is None else previous | flag


def checked_now(tensor: Tensor, deferred: dict | None) -> bool:
    """Whether ``check_values``/``check_range`` on ``tensor`` raise at once (CPU, or no metric to defer to)."""
    return deferred is None or tensor.device.type == "cpu"


def check_range(tensor: Tensor, low: int, high: int, message: str, deferred: dict | None = None,
                ignore_index: int | None = None) -> None:
    """``check_values`` for "every element in [low, high] (or equal to ``ignore_index``)"; one pass on CPU."""
    if tensor.numel() == 0:
        return
    if checked_now(tensor, deferred) and ignore_index is None:
        lo, hi = torch.aminmax(tensor)
        if int(lo) < low or int(hi) > high:
            raise ValueError(message)
        return
    bad = (tensor < low) | (tensor > high)
    if ignore_index is not None:
        bad &= tensor != ignore_index
    check_values(bad, message, deferred)


def safe_divide(num: Tensor, denom: Tensor, zero_division: float = 0.0) -> Tensor:
    """``num / denom`` with ``zero_division`` where ``denom`` is 0 (no synchronisation, no nan)."""
    num = num if num.is_floating_point() else num.float()
    denom = denom if denom.is_floating_point() else denom.float()
    zero = denom == 0
    return torch.where(zero, torch.full_like(num, zero_division), num / torch.where(zero, torch.ones_like(denom), denom))


def accumulation_dtype(device: torch.device | str | None = None) -> torch.dtype:
    """float64 for sums of squares (variance from sums loses digits in float32), except where unsupported."""
    return torch.float32 if device is not None and torch.device(device).type == "mps" else torch.float64
