"""Experiment loggers: TensorBoard (the default), CSV, and the base class for custom ones.

Importing this package does not import tensorboard; the TensorBoard writer is created on first use.
"""
from runtime.loggers.csv_logs import CSVLogger
from runtime.loggers.logger import DummyLogger, Logger, rank_zero_experiment
from runtime.loggers.tensorboard import TensorBoardLogger

__all__ = ["CSVLogger", "DummyLogger", "Logger", "TensorBoardLogger", "rank_zero_experiment"]


def __getattr__(name: str):
    # 1.x spelling, removed in Lightning 2.0; kept running with a warning
    if name == "LightningLoggerBase":
        from runtime.utilities.rank_zero import rank_zero_deprecation

        rank_zero_deprecation("`LightningLoggerBase` is the 1.x name; use `runtime.loggers.Logger`.")
        return Logger
    raise AttributeError(f"module 'runtime.loggers' has no attribute {name!r}")
