"""``Accuracy``, with a ``task`` as in torchmetrics, or without one as in the Lightning 1.0 announcement:

    self.train_acc = pl.metrics.Accuracy()        # task read from the inputs
    self.train_acc(logits, y)                      # (N, C) scores and (N,) labels: multiclass
    self.log("train_acc_step", self.train_acc)
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from runtime.metrics.classification.stat_scores import _StatScoresBase
from runtime.metrics.functional.classification.scores import inferred_accuracy_update
from runtime.metrics.functional.classification.stat_scores import Average
from runtime.metrics.metric import Metric
from runtime.metrics.utilities import check_positive_int, check_probability


class Accuracy(_StatScoresBase):
    """Fraction of correct predictions; ``average`` over classes for multiclass/multilabel (default "micro").

    Without ``task`` (Lightning 1.0), each batch's task is read from its shapes and dtypes and the metric is
    micro accuracy, correct / total: (N, C, ...) scores are argmax-ed (or the target must be in the
    ``top_k`` best); same-shape float ``preds`` are thresholded (logits pass through a sigmoid first);
    same-shape labels are compared. ``num_classes`` then only documents.
    """

    higher_is_better = True

    def __init__(self, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
                 num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                 ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        if task is not None:
            super().__init__(task, threshold, num_classes, num_labels, average, top_k, ignore_index, validate_args, **kwargs)
            return
        Metric.__init__(self, **kwargs)
        check_probability("threshold", threshold)
        if top_k is not None:
            check_positive_int("top_k", top_k)
        self.task, self.threshold, self.num_classes, self.num_labels = None, threshold, num_classes, num_labels
        self.average, self.top_k, self.ignore_index, self.validate_args = "micro", top_k or 1, ignore_index, validate_args
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        if self.task is not None:
            return super().update(preds, target)
        correct, total = inferred_accuracy_update(preds, target, self.threshold, self.top_k, self.ignore_index)
        self.correct += correct
        self.total += total

    def compute(self) -> Tensor:
        if self.task is None:
            return self.correct.float() / self.total
        return self._reduce("accuracy")
