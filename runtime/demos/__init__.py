"""Small models and data for examples, bug reports and tests."""
from runtime.demos.boring_classes import (
    BoringDataModule,
    BoringDataModuleNoLen,
    BoringModel,
    DemoModel,
    ManualOptimBoringModel,
    RandomDataset,
    RandomDictDataset,
    RandomIterableDataset,
    RandomIterableDatasetWithLen,
)

__all__ = [
    "LightningTransformer",
    "Transformer",
    "WikiText2",
    "BoringDataModule",
    "BoringDataModuleNoLen",
    "BoringModel",
    "DemoModel",
    "ManualOptimBoringModel",
    "RandomDataset",
    "RandomDictDataset",
    "RandomIterableDataset",
    "RandomIterableDatasetWithLen",
]


def __getattr__(name: str):
    if name in ("LightningTransformer", "Transformer", "WikiText2"):  # the language-model demo, on first use
        from runtime.demos import transformer

        return getattr(transformer, name)
    raise AttributeError(f"module 'runtime.demos' has no attribute {name!r}")
