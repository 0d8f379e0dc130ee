"""Confusion matrices: (2, 2) binary, (C, C) multiclass, (L, 2, 2) multilabel; rows are targets, columns predictions."""
from __future__ import annotations

import torch
from torch import Tensor

from runtime.metrics.functional.classification.inputs import binary_format, check_task_args, multiclass_format, multilabel_format
from runtime.metrics.utilities import check_choice, check_task, safe_divide

NORMALIZE = ("true", "pred", "all", "none", None)


def confusion_counts(preds: Tensor, target: Tensor, valid: Tensor | None, num_classes: int) -> Tensor:
    """(C, C) counts, rows = target, columns = prediction; elements masked by ``valid`` count 0.

    ``scatter_add`` rather than ``bincount``: bincount reads the largest index on the host (a sync on CUDA).
    """
    index = (target * num_classes + preds).reshape(-1)
    counts = torch.zeros(num_classes * num_classes, dtype=torch.long, device=preds.device)
    ones = torch.ones_like(index) if valid is None else valid.reshape(-1).long()
    counts.scatter_add_(0, index, ones)
    return counts.reshape(num_classes, num_classes)


def confusion_matrix_update(preds: Tensor, target: Tensor, task: str, num_classes: int | None = None, num_labels: int | None = None,
                            threshold: float = 0.5, ignore_index: int | None = None, deferred: dict | None = None,
                            top_k: int = 1) -> Tensor:
    """Counts of one batch (int64)."""
    if task == "binary":
        p, t, v = binary_format(preds, target, threshold, ignore_index, deferred)
        return confusion_counts(p, t, v, 2)
    if task == "multiclass":
        p, t, v = multiclass_format(preds, target, num_classes, top_k, ignore_index, deferred)
        return confusion_counts(p, t, v, num_classes)
    p, t, v = multilabel_format(preds, target, num_labels, threshold, ignore_index, deferred)
    # per label, index 2 * target + pred in {0: tn, 1: fp, 2: fn, 3: tp}
    index = (2 * t + p) + 4 * torch.arange(num_labels, device=p.device)
    counts = torch.zeros(4 * num_labels, dtype=torch.long, device=p.device)
    counts.scatter_add_(0, index.reshape(-1), torch.ones_like(index).reshape(-1) if v is None else v.reshape(-1).long())
    return counts.reshape(num_labels, 2, 2)


def normalize_confusion_matrix(cm: Tensor, normalize: str | None) -> Tensor:
    if normalize in (None, "none"):
        return cm
    if normalize == "true":
        return safe_divide(cm, cm.sum(-1, keepdim=True).expand_as(cm))
    if normalize == "pred":
        return safe_divide(cm, cm.sum(-2, keepdim=True).expand_as(cm))
    return safe_divide(cm, cm.sum((-2, -1), keepdim=True).expand_as(cm))


def confusion_matrix(preds: Tensor, target: Tensor, task: str | None = None, num_classes: int | None = None,
                     num_labels: int | None = None, threshold: float = 0.5, normalize: str | None = None,
                     ignore_index: int | None = None) -> Tensor:
    """Confusion matrix; ``normalize`` "true" (rows), "pred" (columns), "all" or None.

    >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), task="binary")
    tensor([[1, 1],
            [0, 1]])
    """
    check_task(task, "confusion_matrix")
    check_task_args(task, num_classes, num_labels, threshold, None, ignore_index)
    check_choice("normalize", normalize, NORMALIZE)
    cm = confusion_matrix_update(preds, target, task, num_classes, num_labels, threshold, ignore_index)
    return normalize_confusion_matrix(cm, normalize)
