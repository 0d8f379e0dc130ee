"""Turn classification inputs (labels, probabilities or logits) into 0/1 predictions, per task.

Accepted inputs, as in torchmetrics:

- binary: ``preds`` and ``target`` of the same shape; float ``preds`` are probabilities, or logits when any
  value lies outside [0, 1] (a sigmoid is applied), thresholded at ``threshold``; integer ``preds`` are 0/1.
- multiclass: ``preds`` (N, C, ...) float scores (argmax, or the ``top_k`` best) or (N, ...) integer
  labels; ``target`` (N, ...) integer labels in [0, num_classes).
- multilabel: ``preds`` and ``target`` (N, L, ...) with L = ``num_labels``; float ``preds`` as in binary.

Elements whose target equals ``ignore_index`` are masked out (a ``valid`` mask, not removed: removing would
read the mask on the host). Nothing here synchronises unless a value check must raise immediately
(see ``utilities.check_values``).
"""
from __future__ import annotations

import torch
from torch import Tensor

from runtime.metrics.utilities import (as_input, check_integer_tensor, check_no_nan, check_positive_int, check_probability, check_range,
                                      check_same_shape, checked_now)


def check_task_args(task: str, num_classes: int | None, num_labels: int | None, threshold: float, top_k: int | None,
                    ignore_index: int | None) -> None:
    """Argument checks at construction (or at a functional call): no data is read."""
    check_probability("threshold", threshold)
    if task == "multiclass":
        check_positive_int("num_classes", num_classes, 2, " for task='multiclass'")
        if top_k is not None:
            check_positive_int("top_k", top_k, 1)
            if top_k > num_classes:
                raise ValueError(f"`top_k`={top_k} must not exceed `num_classes`={num_classes}.")
    if task == "multilabel":
        check_positive_int("num_labels", num_labels, 2, " for task='multilabel'")
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
        raise ValueError(f"`ignore_index` must be an int or None, got {ignore_index!r}.")


def _probabilities(preds: Tensor) -> Tensor:
    # logits when any value is outside [0, 1]; decided on the device (torch.where), so no sync
    outside = ((preds < 0) | (preds > 1)).any()
    return torch.where(outside, preds.sigmoid(), preds)


def binary_format(preds: Tensor, target: Tensor, threshold: float = 0.5, ignore_index: int | None = None,
                  deferred: dict | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Flattened (preds 0/1, target 0/1, valid mask or None when every element counts)."""
    preds, target = as_input(preds, "preds"), as_input(target, "target")
    check_same_shape(preds, target)
    check_integer_tensor("target", target)
    check_range(target, 0, 1, f"`target` must hold 0 or 1 for task='binary'{_ignored(ignore_index)}.", deferred, ignore_index)
    if preds.is_floating_point():
        check_no_nan(preds, deferred)
        preds = (_probabilities(preds) > threshold).long()
    else:
        check_range(preds, 0, 1, "integer `preds` must hold 0 or 1 for task='binary' (or pass probabilities/logits).", deferred)
    target, valid = _mask(target, ignore_index, 0, 1, deferred)
    return preds.reshape(-1), target.reshape(-1).long(), None if valid is None else valid.reshape(-1)


def _mask(target: Tensor, ignore_index: int | None, low: int, high: int, deferred: dict | None) -> tuple[Tensor, Tensor | None]:
    """(target safe to index with, valid mask); no mask when nothing is ignored and the range was checked."""
    if ignore_index is None and checked_now(target, deferred):
        return target, None
    valid = (target >= low) & (target <= high)  # out of range: reported already (or at compute), never indexed
    if ignore_index is not None:
        valid &= target != ignore_index
    return torch.where(valid, target, torch.zeros_like(target)), valid


def multiclass_format(preds: Tensor, target: Tensor, num_classes: int, top_k: int = 1, ignore_index: int | None = None,
                      deferred: dict | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(preds, target, valid), each (M,): predicted labels, target labels, mask of counted elements."""
    preds, target = as_input(preds, "preds"), as_input(target, "target")
    check_not_one_hot(preds, target, num_classes)
    check_integer_tensor("target", target)
    if preds.ndim == target.ndim + 1:
        if not preds.is_floating_point():
            raise ValueError(f"`preds` with a class dimension must hold float scores, got dtype {preds.dtype}.")
        if preds.shape[1] != num_classes:
            raise ValueError(f"`preds` has {preds.shape[1]} scores per sample in dimension 1 but `num_classes`={num_classes}.")
        if preds.shape[0] != target.shape[0] or preds.shape[2:] != target.shape[1:]:
            raise ValueError(f"`preds` {tuple(preds.shape)} (N, C, ...) does not match `target` {tuple(target.shape)} (N, ...).")
        check_no_nan(preds, deferred)
        scores = preds.movedim(1, -1).reshape(-1, num_classes)
    elif preds.ndim == target.ndim:
        check_same_shape(preds, target)
        check_integer_tensor("preds", preds)
        check_range(preds, 0, num_classes - 1, f"`preds` holds labels outside [0, num_classes={num_classes}).", deferred)
        if top_k not in (None, 1):
            raise ValueError(f"`top_k`={top_k} needs `preds` with class scores (N, C, ...), not labels.")
        scores = None
    else:
        raise ValueError(
            f"for task='multiclass', `preds` must be (N, C, ...) scores or (N, ...) labels matching `target` (N, ...); "
            f"got preds {tuple(preds.shape)} and target {tuple(target.shape)}."
        )
    target = target.reshape(-1)
    check_range(target, 0, num_classes - 1, f"`target` holds labels outside [0, num_classes={num_classes}){_ignored(ignore_index)}.",
                deferred, ignore_index)
    target, valid = _mask(target, ignore_index, 0, num_classes - 1, deferred)
    target = target.long()
    if scores is None:
        labels = preds.reshape(-1).long()
        if not checked_now(labels, deferred):
            labels = labels.clamp(0, num_classes - 1)
        return labels, target, valid
    if not top_k or top_k == 1:
        return scores.argmax(dim=1), target, valid
    # torchmetrics >= 1.8: with top_k the prediction is the target when it is among the k best, else the best
    top = scores.topk(top_k, dim=1).indices
    hit = (top == target.unsqueeze(1)).any(dim=1)
    return torch.where(hit, target, top[:, 0]), target, valid


def multilabel_format(preds: Tensor, target: Tensor, num_labels: int, threshold: float = 0.5, ignore_index: int | None = None,
                      deferred: dict | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(preds 0/1, target 0/1, valid), each (M, L) with the label dimension last."""
    preds, target = as_input(preds, "preds"), as_input(target, "target")
    check_same_shape(preds, target)
    check_integer_tensor("target", target)
    if preds.ndim < 2 or preds.shape[1] != num_labels:
        raise ValueError(f"for task='multilabel', `preds` and `target` must be (N, num_labels={num_labels}, ...), got {tuple(preds.shape)}.")
    check_range(target, 0, 1, f"`target` must hold 0 or 1 for task='multilabel'{_ignored(ignore_index)}.", deferred, ignore_index)
    if preds.is_floating_point():
        check_no_nan(preds, deferred)
        preds = (_probabilities(preds) > threshold).long()
    else:
        check_range(preds, 0, 1, "integer `preds` must hold 0 or 1 for task='multilabel'.", deferred)
    target, valid = _mask(target, ignore_index, 0, 1, deferred)

    def rows(t: Tensor) -> Tensor:
        return t.movedim(1, -1).reshape(-1, num_labels)

    return rows(preds).long(), rows(target).long(), None if valid is None else rows(valid)


def check_not_one_hot(preds: Tensor, target: Tensor, num_classes: int) -> None:
    """A one-hot ``target`` (N, C, ...) for task='multiclass' is the target's problem, not the predictions'."""
    one_hot_shape = target.ndim >= 2 and target.shape[1] == num_classes and (
        (preds.ndim == target.ndim and preds.is_floating_point()) or preds.ndim == target.ndim - 1)
    if one_hot_shape:
        raise ValueError(
            f"`target` {tuple(target.shape)} looks one-hot (N, num_classes={num_classes}, ...); task='multiclass' needs class "
            "indices (N, ...): pass `target.argmax(dim=1)`, or use task='multilabel' when a sample can have several classes."
        )


def _ignored(ignore_index: int | None) -> str:
    return "" if ignore_index is None else f" (or ignore_index={ignore_index})"
