"""Classification metrics for task "binary", "multiclass" or "multilabel" (as torchmetrics)."""
from runtime.metrics.classification.accuracy import Accuracy
from runtime.metrics.classification.confusion_matrix import ConfusionMatrix
from runtime.metrics.classification.precision_recall import F1Score, FBetaScore, Precision, Recall, Specificity
from runtime.metrics.classification.ranking import AUROC, AveragePrecision
from runtime.metrics.classification.stat_scores import StatScores

__all__ = ["AUROC", "Accuracy", "AveragePrecision", "ConfusionMatrix", "F1Score", "FBetaScore", "Precision", "Recall",
           "Specificity", "StatScores"]
