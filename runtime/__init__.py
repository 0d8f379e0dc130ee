"""kindling's training runtime, with PyTorch Lightning's public API: ``import runtime as pl``."""
from runtime.callbacks.callback import Callback
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.trainer.trainer import Trainer
from runtime.utilities.seed import seed_everything

__version__ = "0.1.0"

__all__ = ["Callback", "LightningDataModule", "LightningModule", "Trainer", "cli_lightning_logo", "seed_everything",
           "__version__"]


def cli_lightning_logo() -> None:
    """Print the runtime's name as a banner (what Lightning's example scripts call at start-up)."""
    print(f"\n\033[0;35mkindling runtime {__version__}: Lightning's API on a small trainer\033[0m\n")


def __getattr__(name: str):
    # `pl.metrics` as in the 1.0 announcement; imported on first use so `import runtime` stays light
    if name in ("metrics", "callbacks", "loggers", "demos", "utilities", "strategies", "accelerators", "profilers",
                "tuner", "plugins", "cli"):
        import importlib

        return importlib.import_module(f"runtime.{name}")
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")
