"""Experiment loggers: TensorBoard (the default), CSV, the trackers (W&B, MLflow, Comet, Neptune) and the base class.

Every name is imported on first use: ``import runtime.loggers`` imports no tracker client and not tensorboard, and
a tracker's client library is imported only when its logger is created (``pip install "kindling[wandb]"``...).
"""
import importlib

_NAMES = {
    "Logger": "runtime.loggers.logger",
    "DummyLogger": "runtime.loggers.logger",
    "LoggerCollection": "runtime.loggers.collection",
    "rank_zero_experiment": "runtime.loggers.logger",
    "CSVLogger": "runtime.loggers.csv_logs",
    "TensorBoardLogger": "runtime.loggers.tensorboard",
    "WandbLogger": "runtime.loggers.wandb",
    "MLFlowLogger": "runtime.loggers.mlflow",
    "CometLogger": "runtime.loggers.comet",
    "NeptuneLogger": "runtime.loggers.neptune",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    # 1.x spelling, removed in Lightning 2.0; kept running with a warning
    if name == "LightningLoggerBase":
        from runtime.loggers.logger import Logger
        from runtime.utilities.rank_zero import rank_zero_deprecation

        rank_zero_deprecation("`LightningLoggerBase` is the 1.x name; use `runtime.loggers.Logger`.")
        return Logger
    raise AttributeError(f"module 'runtime.loggers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
