"""``AUROC`` and ``AveragePrecision``: exact values from every score, kept in "cat" states."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from runtime.metrics.functional.classification.ranking import check_ranking_args, ranking_compute, ranking_format
from runtime.metrics.metric import Metric


class _RankingMetric(Metric):
    _kind = ""
    higher_is_better = True

    def __init__(self, task: str | None = None, num_classes: int | None = None, num_labels: int | None = None,
                 average: str | None = "macro", thresholds: Any = None, ignore_index: int | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if thresholds is not None:
            raise ValueError("`thresholds`: only the exact computation (thresholds=None) is supported; binned curves are not.")
        check_ranking_args(task, num_classes, num_labels, average, ignore_index, type(self).__name__)
        self.task, self.num_classes, self.num_labels, self.average = task, num_classes, num_labels, average
        self.ignore_index, self.validate_args = ignore_index, validate_args
        self.add_state("preds", default=[], dist_reduce_fx="cat")
        self.add_state("target", default=[], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        scores, target = ranking_format(preds, target, self.task, self.num_classes, self.num_labels, self.ignore_index,
                                        self._deferred if self.validate_args else {})
        self.preds.append(scores.detach())
        self.target.append(target)

    def compute(self) -> Tensor:
        if not self.preds:
            return torch.tensor(float("nan"), device=self.device)
        return ranking_compute(self._kind, torch.cat(self.preds), torch.cat(self.target), self.task, self.average)


class AUROC(_RankingMetric):
    """Area under the ROC curve; multiclass is one-vs-rest per class, averaged ("macro", "weighted", None)."""

    _kind = "auroc"


class AveragePrecision(_RankingMetric):
    """Average precision (area under the precision-recall curve, step-wise, as scikit-learn)."""

    _kind = "average_precision"
