"""The config runner behind every generated ``train.py``: LightningCLI's conventions, without jsonargparse.

``python train.py fit --config configs/default.yaml --trainer.max_epochs=3 --model.lr=0.01``

Not imported by ``import runtime``; importing it pulls in PyYAML only when a config is read or written.
"""
from runtime.cli.lightning_cli import LightningCLI, SaveConfigCallback
from runtime.cli.optim import ReduceLROnPlateau
from runtime.cli.parser import CLIError, LightningArgumentParser, Namespace

__all__ = ["CLIError", "LightningArgumentParser", "LightningCLI", "Namespace", "ReduceLROnPlateau", "SaveConfigCallback"]
