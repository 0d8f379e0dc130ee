"""Callbacks: hooks into the loop, and the ones the trainer adds by default."""
from runtime.callbacks.batch_size_finder import BatchSizeFinder
from runtime.callbacks.callback import Callback
from runtime.callbacks.checkpoint import Checkpoint
from runtime.callbacks.model_checkpoint import ModelCheckpoint
from runtime.callbacks.model_summary import ModelSummary
from runtime.callbacks.rich_model_summary import RichModelSummary
from runtime.callbacks.on_exception_checkpoint import OnExceptionCheckpoint
from runtime.callbacks.progress import ProgressBar, RichProgressBar, RichProgressBarTheme, TextProgressBar, TQDMProgressBar
from runtime.callbacks.device_stats_monitor import DeviceStatsMonitor
from runtime.callbacks.early_stopping import EarlyStopping
from runtime.callbacks.finetuning import BackboneFinetuning, BaseFinetuning
from runtime.callbacks.gradient_accumulation_scheduler import GradientAccumulationScheduler
from runtime.callbacks.lambda_function import LambdaCallback
from runtime.callbacks.lr_finder import LearningRateFinder
from runtime.callbacks.lr_monitor import LearningRateMonitor
from runtime.callbacks.prediction_writer import BasePredictionWriter
from runtime.callbacks.stochastic_weight_avg import StochasticWeightAveraging
from runtime.callbacks.throughput_monitor import ThroughputMonitor
from runtime.callbacks.timer import Timer

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
