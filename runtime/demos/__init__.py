"""Small models and data for examples, bug reports and tests."""
from runtime.demos.boring_classes import BoringDataModule, BoringModel, ManualOptimBoringModel, RandomDataset

__all__ = ["BoringDataModule", "BoringModel", "ManualOptimBoringModel", "RandomDataset"]
