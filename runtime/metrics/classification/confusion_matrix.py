"""``ConfusionMatrix``: counts kept as one "sum" state; rows are targets, columns predictions."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from runtime.metrics.functional.classification.confusion_matrix import NORMALIZE, confusion_matrix_update, normalize_confusion_matrix
from runtime.metrics.functional.classification.inputs import check_task_args
from runtime.metrics.metric import Metric
from runtime.metrics.utilities import check_choice, check_task


class ConfusionMatrix(Metric):
    """(2, 2) for binary, (C, C) for multiclass, (L, 2, 2) for multilabel; ``normalize`` "true", "pred", "all"."""

    def __init__(self, task: str | None = None, num_classes: int | None = None, num_labels: int | None = None,
                 threshold: float = 0.5, normalize: str | None = None, ignore_index: int | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_task(task, "ConfusionMatrix")
        check_task_args(task, num_classes, num_labels, threshold, None, ignore_index)
        check_choice("normalize", normalize, NORMALIZE)
        self.task, self.num_classes, self.num_labels, self.threshold = task, num_classes, num_labels, threshold
        self.normalize, self.ignore_index, self.validate_args = normalize, ignore_index, validate_args
        shape = (2, 2) if task == "binary" else (num_classes, num_classes) if task == "multiclass" else (num_labels, 2, 2)
        self.add_state("confmat", default=torch.zeros(shape, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        self.confmat += confusion_matrix_update(preds, target, self.task, self.num_classes, self.num_labels, self.threshold,
                                                self.ignore_index, self._deferred if self.validate_args else {})

    def compute(self) -> Tensor:
        return normalize_confusion_matrix(self.confmat, self.normalize)
