"""The Trainer and the loops it runs."""
from runtime.trainer.trainer import Trainer

__all__ = ["Trainer"]
