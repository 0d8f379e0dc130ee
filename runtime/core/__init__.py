"""LightningModule, LightningDataModule and their hooks."""
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule

__all__ = ["LightningDataModule", "LightningModule"]
