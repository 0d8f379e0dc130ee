"""True/false positives/negatives: the sufficient statistics behind accuracy, precision, recall, F-scores.

They all come from the confusion matrix, which only ever adds up: the class metrics keep it as one "sum"
state (one scatter_add per batch) and derive (tp, fp, tn, fn) at compute, so the value over many batches or
processes is the value on their concatenation. ``reduce_*`` functions turn the counts into scores.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from runtime.metrics.functional.classification.confusion_matrix import confusion_matrix_update
from runtime.metrics.functional.classification.inputs import check_task_args
from runtime.metrics.utilities import AVERAGES, check_choice, check_task, safe_divide

Average = Literal["micro", "macro", "weighted", "none"] | None


def stats_from_confmat(cm: Tensor, task: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(tp, fp, tn, fn) from a confusion matrix: (2, 2) binary, (C, C) multiclass, (L, 2, 2) multilabel."""
    if task == "multiclass":
        tp = cm.diagonal()
        fp = cm.sum(0) - tp
        fn = cm.sum(1) - tp
        return tp, fp, cm.sum() - tp - fp - fn, fn
    return cm[..., 1, 1], cm[..., 0, 1], cm[..., 0, 0], cm[..., 1, 0]


def stat_scores_update(preds: Tensor, target: Tensor, task: str, num_classes: int | None = None, num_labels: int | None = None,
                       threshold: float = 0.5, top_k: int | None = 1, ignore_index: int | None = None,
                       deferred: dict | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(tp, fp, tn, fn) of one batch, as int64 tensors on the inputs' device."""
    cm = confusion_matrix_update(preds, target, task, num_classes, num_labels, threshold, ignore_index, deferred, top_k or 1)
    return stats_from_confmat(cm, task)


def check_classification_args(task: str, num_classes: int | None, num_labels: int | None, threshold: float, top_k: int | None,
                              average: Average, ignore_index: int | None, metric: str) -> None:
    check_task(task, metric)
    check_task_args(task, num_classes, num_labels, threshold, top_k, ignore_index)
    check_choice("average", "none" if average is None else average, AVERAGES)


def _weighted(score: Tensor, average: Average, multilabel: bool, tp: Tensor, fp: Tensor, fn: Tensor, top_k: int) -> Tensor:
    # macro skips classes that never occur in preds nor target (torchmetrics' rule); weighted uses support
    if average in (None, "none"):
        return score
    if average == "weighted":
        weights = (tp + fn).float()
    else:
        weights = torch.ones_like(score)
        if not multilabel:
            absent = (tp + fp + fn == 0) if top_k == 1 else (tp + fn == 0)
            weights = torch.where(absent, torch.zeros_like(weights), weights)
    return safe_divide((weights * score).sum(-1), weights.sum(-1))


def reduce_score(kind: str, tp: Tensor, fp: Tensor, tn: Tensor, fn: Tensor, task: str, average: Average, top_k: int = 1,
                 beta: float = 1.0, zero_division: float = 0.0) -> Tensor:
    """Accuracy, precision, recall, fbeta or specificity from summed stat scores."""
    multilabel = task == "multilabel"
    if task != "binary" and average == "micro":
        tp, fp, tn, fn = tp.sum(-1), fp.sum(-1), tn.sum(-1), fn.sum(-1)
    if kind == "accuracy":
        per_class = task != "binary" and not multilabel
        score = safe_divide(tp, tp + fn) if per_class else safe_divide(tp + tn, tp + tn + fp + fn)
    elif kind == "precision":
        score = safe_divide(tp, tp + fp, zero_division)
    elif kind == "recall":
        score = safe_divide(tp, tp + fn, zero_division)
    elif kind == "specificity":
        score = safe_divide(tn, tn + fp, zero_division)
    elif kind == "fbeta":
        b2 = beta * beta
        score = safe_divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division)
    else:
        raise ValueError(f"unknown score {kind!r}")
    if task == "binary" or average == "micro":
        return score
    return _weighted(score, average, multilabel, tp, fp, fn, top_k or 1)


def reduce_stat_scores(tp: Tensor, fp: Tensor, tn: Tensor, fn: Tensor, task: str, average: Average) -> Tensor:
    """[tp, fp, tn, fn, support] along the last dimension, reduced over classes as ``average`` says."""
    res = torch.stack([tp, fp, tn, fn, tp + fn], dim=-1)
    if task == "binary" or average in (None, "none"):
        return res
    if average == "micro":
        return res.sum(-2)
    if average == "macro":
        return res.float().mean(-2)
    weights = (tp + fn).float()
    return (res * safe_divide(weights, weights.sum()).unsqueeze(-1)).sum(-2)


def stat_scores(preds: Tensor, target: Tensor, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
                num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                ignore_index: int | None = None) -> Tensor:
    """[tp, fp, tn, fn, support]: shape (5,) for binary or ``average='micro'``, (C, 5) per class otherwise.

    >>> stat_scores(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), task="binary")
    tensor([1, 1, 1, 0, 1])
    """
    check_classification_args(task, num_classes, num_labels, threshold, top_k, average, ignore_index, "stat_scores")
    tp, fp, tn, fn = stat_scores_update(preds, target, task, num_classes, num_labels, threshold, top_k, ignore_index)
    return reduce_stat_scores(tp, fp, tn, fn, task, average)
