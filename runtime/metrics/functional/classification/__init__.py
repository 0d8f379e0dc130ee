"""Functional classification metrics."""
from runtime.metrics.functional.classification.confusion_matrix import confusion_matrix
from runtime.metrics.functional.classification.ranking import auroc, average_precision
from runtime.metrics.functional.classification.scores import accuracy, f1_score, fbeta_score, precision, recall, specificity
from runtime.metrics.functional.classification.stat_scores import stat_scores

__all__ = ["accuracy", "auroc", "average_precision", "confusion_matrix", "f1_score", "fbeta_score", "precision", "recall",
           "specificity", "stat_scores"]
