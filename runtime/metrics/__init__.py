"""Metrics with state that accumulate over batches and synchronise across processes (``pl.metrics``).

Write your own by subclassing ``Metric`` (``add_state`` in ``__init__``, then ``update`` and ``compute``),
or use the ones here; ``runtime.metrics.functional`` has the same computations as plain functions.
Not imported by ``import runtime``: ``pl.metrics`` loads it on first use.
"""
from runtime.metrics import functional
from runtime.metrics.aggregation import CatMetric, MaxMetric, MeanMetric, MinMetric, SumMetric
from runtime.metrics.classification import (
    AUROC, Accuracy, AveragePrecision, ConfusionMatrix, F1Score, FBetaScore, Precision, Recall, Specificity, StatScores,
)
from runtime.metrics.collections import MetricCollection
from runtime.metrics.metric import Metric
from runtime.metrics.regression import (
    CosineSimilarity, ExplainedVariance, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    PearsonCorrCoef, R2Score,
)
from runtime.metrics.text import Perplexity

__all__ = [
    "AUROC", "Accuracy", "AveragePrecision", "CatMetric", "ConfusionMatrix", "CosineSimilarity", "ExplainedVariance",
    "F1Score", "FBetaScore", "MaxMetric", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanMetric",
    "MeanSquaredError", "Metric", "MetricCollection", "MinMetric", "PearsonCorrCoef", "Perplexity", "Precision",
    "R2Score", "Recall", "Specificity", "StatScores", "SumMetric", "functional",
]
