"""Callbacks: hooks into the loop, and the ones the trainer adds by default.

Each name is imported from its module on first use (PEP 562), so `import runtime` does not load every callback
(rich, tqdm and the monitors among them): `from runtime.callbacks import EarlyStopping` works as before.
"""
import importlib
from typing import Any

_WHERE = {
    "BatchSizeFinder": "runtime.callbacks.batch_size_finder",
    "Callback": "runtime.callbacks.callback",
    "Checkpoint": "runtime.callbacks.checkpoint",
    "ModelCheckpoint": "runtime.callbacks.model_checkpoint",
    "ModelSummary": "runtime.callbacks.model_summary",
    "RichModelSummary": "runtime.callbacks.rich_model_summary",
    "OnExceptionCheckpoint": "runtime.callbacks.on_exception_checkpoint",
    "ProgressBar": "runtime.callbacks.progress",
    "RichProgressBar": "runtime.callbacks.progress",
    "RichProgressBarTheme": "runtime.callbacks.progress",
    "TextProgressBar": "runtime.callbacks.progress",
    "TQDMProgressBar": "runtime.callbacks.progress",
    "DeviceStatsMonitor": "runtime.callbacks.device_stats_monitor",
    "EarlyStopping": "runtime.callbacks.early_stopping",
    "BackboneFinetuning": "runtime.callbacks.finetuning",
    "BaseFinetuning": "runtime.callbacks.finetuning",
    "GradientAccumulationScheduler": "runtime.callbacks.gradient_accumulation_scheduler",
    "LambdaCallback": "runtime.callbacks.lambda_function",
    "LearningRateFinder": "runtime.callbacks.lr_finder",
    "LearningRateMonitor": "runtime.callbacks.lr_monitor",
    "BasePredictionWriter": "runtime.callbacks.prediction_writer",
    "StochasticWeightAveraging": "runtime.callbacks.stochastic_weight_avg",
    "ThroughputMonitor": "runtime.callbacks.throughput_monitor",
    "Timer": "runtime.callbacks.timer",
}

__all__ = [
    "BatchSizeFinder",
    "Callback",
    "Checkpoint",
    "ModelCheckpoint",
    "ModelSummary",
    "OnExceptionCheckpoint",
    "ProgressBar",
    "RichModelSummary",
    "RichProgressBar",
    "RichProgressBarTheme",
    "TQDMProgressBar",
    "TextProgressBar",
    "BackboneFinetuning",
    "BaseFinetuning",
    "BasePredictionWriter",
    "DeviceStatsMonitor",
    "EarlyStopping",
    "GradientAccumulationScheduler",
    "LambdaCallback",
    "LearningRateFinder",
    "LearningRateMonitor",
    "StochasticWeightAveraging",
    "ThroughputMonitor",
    "Timer",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime.callbacks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
