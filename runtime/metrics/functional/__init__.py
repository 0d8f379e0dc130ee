"""Functional forms of the metrics: one call on whole tensors, no state (``runtime.metrics.functional``).

The class metrics are built from the same ``*_update`` / ``*_compute`` pieces, so both give the same values.
"""
from runtime.metrics.functional.classification import (
    accuracy, auroc, average_precision, confusion_matrix, f1_score, fbeta_score, precision, recall, specificity, stat_scores,
)
from runtime.metrics.functional.regression import (
    cosine_similarity, explained_variance, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    pearson_corrcoef, r2_score,
)
from runtime.metrics.functional.text import perplexity

__all__ = [
    "accuracy", "auroc", "average_precision", "confusion_matrix", "cosine_similarity", "explained_variance", "f1_score",
    "fbeta_score", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error", "pearson_corrcoef",
    "perplexity", "precision", "r2_score", "recall", "specificity", "stat_scores",
]
