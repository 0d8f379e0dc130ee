"""``Precision``, ``Recall``, ``FBetaScore``, ``F1Score`` and ``Specificity`` over tp/fp/tn/fn states.

    f1 = F1Score(task="multiclass", num_classes=10, average="macro")
    f1(logits, y)      # this batch's F1; f1.compute() is the F1 over every batch since reset()
"""
from __future__ import annotations

from typing import Any

from torch import Tensor

from runtime.metrics.classification.stat_scores import _StatScoresBase
from runtime.metrics.functional.classification.scores import check_beta
from runtime.metrics.functional.classification.stat_scores import Average


class _ZeroDivisionScore(_StatScoresBase):
    _kind = ""
    higher_is_better = True

    def __init__(self, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
                 num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                 ignore_index: int | None = None, validate_args: bool = True, zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(task, threshold, num_classes, num_labels, average, top_k, ignore_index, validate_args, **kwargs)
        self.zero_division = zero_division

    def compute(self) -> Tensor:
        return self._reduce(self._kind, getattr(self, "beta", 1.0), self.zero_division)


class Precision(_ZeroDivisionScore):
    """tp / (tp + fp)."""

    _kind = "precision"


class Recall(_ZeroDivisionScore):
    """tp / (tp + fn)."""

    _kind = "recall"


class Specificity(_ZeroDivisionScore):
    """tn / (tn + fp)."""

    _kind = "specificity"


class FBetaScore(_ZeroDivisionScore):
    """(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp); ``beta`` weighs recall against precision."""

    _kind = "fbeta"

    def __init__(self, task: str | None = None, beta: float = 1.0, threshold: float = 0.5, num_classes: int | None = None,
                 num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                 ignore_index: int | None = None, validate_args: bool = True, zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(task, threshold, num_classes, num_labels, average, top_k, ignore_index, validate_args, zero_division, **kwargs)
        self.beta = check_beta(beta)


class F1Score(FBetaScore):
    """F-beta with beta = 1, the harmonic mean of precision and recall."""

    def __init__(self, task: str | None = None, threshold: float = 0.5, num_classes: int | None = None,
                 num_labels: int | None = None, average: Average = "micro", top_k: int | None = 1,
                 ignore_index: int | None = None, validate_args: bool = True, zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(task, 1.0, threshold, num_classes, num_labels, average, top_k, ignore_index, validate_args, zero_division, **kwargs)
