"""Functional accuracy, precision, recall, F-beta, F1 and specificity (the class metrics reuse these pieces).

    >>> accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]), task="multiclass", num_classes=2)
    tensor(0.5000)
"""
from __future__ import annotations

import torch
from torch import Tensor

from runtime.metrics.functional.classification.stat_scores import Average, check_classification_args, reduce_score, stat_scores_update
from runtime.metrics.utilities import check_integer_tensor


def inferred_accuracy_update(preds: Tensor, target: Tensor, threshold: float = 0.5, top_k: int | None = None,
                             ignore_index: int | None = None) -> tuple[Tensor, Tensor]:
    """(correct, total) with the task read from the inputs, as Lightning 1.0's ``Accuracy()`` did.

    (N, C, ...) float scores with (N, ...) labels: multiclass (argmax, or correct when the target is in the
    ``top_k`` best); same-shape float ``preds``: probabilities or logits, thresholded elementwise (binary
    or multilabel); same-shape integer ``preds``: labels compared elementwise.
    """
    check_integer_tensor("target", target)
    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    if preds.ndim == target.ndim + 1 and preds.is_floating_point():
        if preds.shape[0] != target.shape[0] or preds.shape[2:] != target.shape[1:]:
            raise ValueError(f"`preds` {tuple(preds.shape)} (N, C, ...) does not match `target` {tuple(target.shape)} (N, ...).")
        if top_k and top_k > 1:
            if top_k > preds.shape[1]:
                raise ValueError(f"`top_k`={top_k} exceeds the {preds.shape[1]} classes in `preds`.")
            top = preds.topk(top_k, dim=1).indices
            hit = (top == target.unsqueeze(1)).any(dim=1)
        else:
            hit = preds.argmax(dim=1) == target
    elif preds.shape == target.shape:
        if preds.is_floating_point():
            outside = ((preds < 0) | (preds > 1)).any()
            preds = (torch.where(outside, preds.sigmoid(), preds) > threshold).to(target.dtype)
        hit = preds == target
    else:
        raise ValueError(
            "`preds` must be (N, C, ...) class scores with `target` (N, ...), or have the shape of `target`; got "
            f"preds {tuple(preds.shape)} and target {tuple(target.shape)}. Pass `task=` to say which."
        )
    return (hit & valid).sum(), valid.sum()


def _score(kind: str, preds: Tensor, target: Tensor, task: str | None, threshold: float, num_classes: int | None,
           num_labels: int | None, average: Average, top_k: int | None, ignore_index: int | None, beta: float = 1.0,
           zero_division: float = 0.0) -> Tensor:
    check_classification_args(task, num_classes, num_labels, threshold, top_k, average, ignore_index, kind)
    tp, fp, tn, fn = stat_scores_update(preds, target, task, num_classes, num_labels, threshold, top_k, ignore_index)
    return reduce_score(kind, tp, fp, tn, fn, task, average, top_k or 1, beta, zero_division)


def accuracy(preds: Tensor, target: Tensor, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
             num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
             ignore_index: int | None = None) -> Tensor:
    """Fraction of correct predictions. Without ``task``, the task is inferred from the inputs (micro accuracy)."""
    if task is None:
        correct, total = inferred_accuracy_update(preds, target, threshold, top_k, ignore_index)
        return correct.float() / total
    return _score("accuracy", preds, target, task, threshold, num_classes, num_labels, average, top_k, ignore_index)


def precision(preds: Tensor, target: Tensor, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
              num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
              ignore_index: int | None = None, zero_division: float = 0.0) -> Tensor:
    """tp / (tp + fp)."""
    return _score("precision", preds, target, task, threshold, num_classes, num_labels, average, top_k, ignore_index, 1.0, zero_division)


def recall(preds: Tensor, target: Tensor, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
           num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
           ignore_index: int | None = None, zero_division: float = 0.0) -> Tensor:
    """tp / (tp + fn)."""
    return _score("recall", preds, target, task, threshold, num_classes, num_labels, average, top_k, ignore_index, 1.0, zero_division)


def specificity(preds: Tensor, target: Tensor, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
                num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                ignore_index: int | None = None, zero_division: float = 0.0) -> Tensor:
    """tn / (tn + fp)."""
    return _score("specificity", preds, target, task, threshold, num_classes, num_labels, average, top_k, ignore_index, 1.0, zero_division)


def fbeta_score(preds: Tensor, target: Tensor, task: str | None = None, beta: float = 1.0, threshold: float = 0.5,
                num_classes: int | None = None, num_labels: int | None = None, average: Average = "micro",
                top_k: int | None = 1, ignore_index: int | None = None, zero_division: float = 0.0) -> Tensor:
    """(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)."""
    check_beta(beta)
    return _score("fbeta", preds, target, task, threshold, num_classes, num_labels, average, top_k, ignore_index, beta, zero_division)


def f1_score(preds: Tensor, target: Tensor, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
             num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
             ignore_index: int | None = None, zero_division: float = 0.0) -> Tensor:
    """F-beta with beta = 1: the harmonic mean of precision and recall."""
    return _score("fbeta", preds, target, task, threshold, num_classes, num_labels, average, top_k, ignore_index, 1.0, zero_division)


def check_beta(beta: float) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
        raise ValueError(f"`beta` must be a positive number, got {beta!r}.")
    return float(beta)
