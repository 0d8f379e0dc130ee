"""Exact (threshold-free) AUROC and average precision, as scikit-learn computes them.

Both need every score, so the class metrics keep predictions in "cat" states and rank at ``compute``.
``ranking_format`` prepares one batch without reading data on the host: ignored targets become -1 and are
dropped at compute time. A class (or label) with no positive target has no defined AUROC/AP: its value is
nan, macro averaging skips it, and a warning says so.
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor

from runtime.metrics.functional.classification.inputs import check_not_one_hot, check_task_args
from runtime.metrics.utilities import as_input, check_choice, check_integer_tensor, check_no_nan, check_same_shape, check_task, check_values


def ranking_format(preds: Tensor, target: Tensor, task: str, num_classes: int | None, num_labels: int | None,
                   ignore_index: int | None, deferred: dict | None = None) -> tuple[Tensor, Tensor]:
    """(scores, target): binary (M,), (M,); multiclass (M, C), (M,); multilabel (M, L), (M, L). Ignored -> -1."""
    preds, target = as_input(preds, "preds"), as_input(target, "target")
    if task == "multiclass":
        check_not_one_hot(preds, target, num_classes)
    check_integer_tensor("target", target)
    if not preds.is_floating_point():
        raise ValueError(f"`preds` must hold float scores (probabilities or logits) for AUROC/average precision, got {preds.dtype}.")
    check_no_nan(preds, deferred)
    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    suffix = "" if ignore_index is None else f" (or ignore_index={ignore_index})"
    if task == "multiclass":
        if preds.ndim != target.ndim + 1 or preds.shape[1] != num_classes or preds.shape[0] != target.shape[0] or preds.shape[2:] != target.shape[1:]:
            raise ValueError(f"for task='multiclass', `preds` must be (N, num_classes={num_classes}, ...) and `target` (N, ...); "
                             f"got {tuple(preds.shape)} and {tuple(target.shape)}.")
        check_values(valid & ((target < 0) | (target >= num_classes)), f"`target` holds labels outside [0, num_classes={num_classes}){suffix}.", deferred)
        scores = preds.movedim(1, -1).reshape(-1, num_classes)
        return scores, torch.where(valid, target, torch.full_like(target, -1)).reshape(-1).long()
    check_same_shape(preds, target)
    check_values(valid & (target != 0) & (target != 1), f"`target` must hold 0 or 1 for task={task!r}{suffix}.", deferred)
    target = torch.where(valid, target, torch.full_like(target, -1)).long()
    if task == "binary":
        return preds.reshape(-1), target.reshape(-1)
    if preds.ndim < 2 or preds.shape[1] != num_labels:
        raise ValueError(f"for task='multilabel', `preds` and `target` must be (N, num_labels={num_labels}, ...), got {tuple(preds.shape)}.")
    return preds.movedim(1, -1).reshape(-1, num_labels), target.movedim(1, -1).reshape(-1, num_labels)


def _clf_curve(scores: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Cumulative (fps, tps) at each distinct score, from the highest down (ties share a threshold)."""
    order = torch.argsort(scores, descending=True, stable=True)
    scores, target = scores[order], target[order].double()
    last_of_tie = torch.nonzero(scores[1:] != scores[:-1]).reshape(-1)
    idx = torch.cat([last_of_tie, torch.tensor([scores.numel() - 1], device=scores.device)])
    tps = torch.cumsum(target, 0)[idx]
    fps = (idx + 1).double() - tps
    return fps, tps


def _binary_auroc(scores: Tensor, target: Tensor) -> Tensor:
    if scores.numel() == 0:
        return torch.tensor(float("nan"), device=scores.device)
    fps, tps = _clf_curve(scores, target)
    if tps[-1] == 0 or fps[-1] == 0:
        return torch.tensor(float("nan"), device=scores.device)
    zero = torch.zeros(1, dtype=tps.dtype, device=tps.device)
    tpr, fpr = torch.cat([zero, tps / tps[-1]]), torch.cat([zero, fps / fps[-1]])
    return torch.trapezoid(tpr, fpr).float()


def _binary_ap(scores: Tensor, target: Tensor) -> Tensor:
    if scores.numel() == 0:
        return torch.tensor(float("nan"), device=scores.device)
    fps, tps = _clf_curve(scores, target)
    if tps[-1] == 0:
        return torch.tensor(float("nan"), device=scores.device)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    steps = torch.diff(recall, prepend=torch.zeros(1, dtype=recall.dtype, device=recall.device))
    return (steps * precision).sum().float()


def _per_column(fn, scores: Tensor, target: Tensor, task: str) -> tuple[Tensor, Tensor]:
    """(value, support) for each class (multiclass, one-vs-rest) or label."""
    values, support = [], []
    for c in range(scores.shape[1]):
        if task == "multiclass":
            keep = target >= 0
            s, t = scores[keep, c], (target[keep] == c).long()
        else:
            keep = target[:, c] >= 0
            s, t = scores[keep, c], target[keep, c]
        values.append(fn(s, t))
        support.append(t.sum())
    return torch.stack(values), torch.stack(support).float()


def _ranking(kind: str, scores: Tensor, target: Tensor, task: str, average: str | None) -> Tensor:
    fn = _binary_auroc if kind == "auroc" else _binary_ap
    name = "AUROC" if kind == "auroc" else "average precision"
    if task == "binary":
        keep = target >= 0
        value = fn(scores[keep], target[keep])
        if torch.isnan(value):
            warnings.warn(f"{name} is undefined when the target has only one class; returning nan.", UserWarning, stacklevel=3)
        return value
    if task == "multiclass" and not (((scores >= 0) & (scores <= 1)).all()):
        scores = scores.softmax(-1)
    if task == "multilabel" and average == "micro":
        keep = target.reshape(-1) >= 0
        return fn(scores.reshape(-1)[keep], target.reshape(-1)[keep])
    values, support = _per_column(fn, scores, target, task)
    undefined = torch.isnan(values)
    if undefined.any():
        missing = torch.nonzero(undefined).reshape(-1).tolist()
        warnings.warn(f"{name} is undefined for classes/labels {missing} (no positive or no negative sample); "
                      f"they are nan and left out of the average.", UserWarning, stacklevel=3)
    if average in (None, "none"):
        return values
    if average == "weighted":
        w = torch.where(undefined, torch.zeros_like(support), support)
        return (torch.nan_to_num(values) * w).sum() / w.sum()
    return values[~undefined].mean()


def check_ranking_args(task: str | None, num_classes: int | None, num_labels: int | None, average: str | None,
                       ignore_index: int | None, metric: str) -> None:
    check_task(task, metric)
    check_task_args(task, num_classes, num_labels, 0.5, None, ignore_index)
    allowed = ("macro", "weighted", "none", None) if task == "multiclass" else ("micro", "macro", "weighted", "none", None)
    check_choice("average", average, allowed)


def ranking_compute(kind: str, scores: Tensor, target: Tensor, task: str, average: str | None) -> Tensor:
    return _ranking(kind, scores, target, task, average)


def auroc(preds: Tensor, target: Tensor, task: str | None = None, num_classes: int | None = None, num_labels: int | None = None,
          average: str | None = "macro", ignore_index: int | None = None) -> Tensor:
    """Area under the ROC curve (exact; one-vs-rest per class for multiclass).

    >>> auroc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]), task="binary")
    tensor(0.7500)
    """
    check_ranking_args(task, num_classes, num_labels, average, ignore_index, "auroc")
    scores, target = ranking_format(preds, target, task, num_classes, num_labels, ignore_index)
    return _ranking("auroc", scores, target, task, average)


def average_precision(preds: Tensor, target: Tensor, task: str | None = None, num_classes: int | None = None,
                      num_labels: int | None = None, average: str | None = "macro", ignore_index: int | None = None) -> Tensor:
    """Average precision: sum over thresholds of (recall step) x precision, as scikit-learn.

    >>> average_precision(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]), task="binary")
    tensor(0.8333)
    """
    check_ranking_args(task, num_classes, num_labels, average, ignore_index, "average_precision")
    scores, target = ranking_format(preds, target, task, num_classes, num_labels, ignore_index)
    return _ranking("average_precision", scores, target, task, average)
