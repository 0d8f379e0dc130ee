"""LightningCLI on jsonargparse: the config runner behind every generated ``train.py``.

``python train.py fit --config configs/default.yaml --trainer.max_epochs=3 --model.lr=0.01``

Not imported by ``import runtime``: jsonargparse is loaded only when the CLI is used.
"""
# every callback and logger class is imported, so a config can name them by their short names
# (``class_path: ModelCheckpoint``, ``--trainer.logger=CSVLogger``), as with ``import lightning.pytorch``
import runtime.callbacks
import runtime.loggers.comet
import runtime.loggers.csv_logs
import runtime.loggers.mlflow
import runtime.loggers.neptune
import runtime.loggers.tensorboard
import runtime.loggers.wandb  # the trackers' modules import their clients only when a logger is made
from runtime.cli.lightning_cli import ArgsType, LightningCLI, SaveConfigCallback, instantiate_class
from runtime.cli.optim import (LRSchedulerCallable, LRSchedulerType, LRSchedulerTypeTuple, LRSchedulerTypeUnion,
                               OptimizerCallable, ReduceLROnPlateau)
from runtime.cli.parser import LightningArgumentParser, Namespace

__all__ = ["ArgsType", "LRSchedulerCallable", "LRSchedulerType", "LRSchedulerTypeTuple", "LRSchedulerTypeUnion",
           "LightningArgumentParser", "LightningCLI", "Namespace", "OptimizerCallable", "ReduceLROnPlateau",
           "SaveConfigCallback", "instantiate_class"]
