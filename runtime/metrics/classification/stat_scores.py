"""``StatScores`` and the base of every metric built on tp/fp/tn/fn "sum" states."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from runtime.metrics.functional.classification.stat_scores import (
    Average, check_classification_args, reduce_score, reduce_stat_scores, stats_from_confmat,
)
from runtime.metrics.functional.classification.confusion_matrix import confusion_matrix_update
from runtime.metrics.metric import Metric


class _StatScoresBase(Metric):
    """Holds the task arguments and one "sum" state, the confusion matrix, from which tp/fp/tn/fn are derived."""

    def __init__(self, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
                 num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                 ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_classification_args(task, num_classes, num_labels, threshold, top_k, average, ignore_index, type(self).__name__)
        self.task, self.threshold, self.num_classes, self.num_labels = task, threshold, num_classes, num_labels
        self.average, self.top_k, self.ignore_index, self.validate_args = average, top_k or 1, ignore_index, validate_args
        shape = (2, 2) if task == "binary" else (num_classes, num_classes) if task == "multiclass" else (num_labels, 2, 2)
        self.add_state("confmat", default=torch.zeros(shape, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add this batch's counts. Value checks on an accelerator are deferred to ``compute`` (no sync here)."""
        # one scatter_add into the confusion matrix; tp/fp/tn/fn are derived from it at compute
        self.confmat += confusion_matrix_update(preds, target, self.task, self.num_classes, self.num_labels, self.threshold,
                                                self.ignore_index, self._deferred if self.validate_args else {}, self.top_k)

    def _stats(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return stats_from_confmat(self.confmat, self.task)

    def _reduce(self, kind: str, beta: float = 1.0, zero_division: float = 0.0) -> Tensor:
        return reduce_score(kind, *self._stats(), self.task, self.average, self.top_k, beta, zero_division)


class StatScores(_StatScoresBase):
    """[tp, fp, tn, fn, support]: (5,) for binary or ``average='micro'``, (C, 5) for ``average=None``.

    >>> m = StatScores(task="multiclass", num_classes=3, average=None)
    >>> m(torch.tensor([0, 2, 1]), torch.tensor([0, 1, 1]))
    tensor([[1, 0, 2, 0, 1],
            [1, 0, 1, 1, 2],
            [0, 1, 2, 0, 0]])
    """

    def compute(self) -> Tensor:
        return reduce_stat_scores(*self._stats(), self.task, self.average)
