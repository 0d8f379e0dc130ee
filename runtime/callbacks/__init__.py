"""Callbacks: hooks into the loop, and the ones the trainer adds by default."""
from runtime.callbacks.callback import Callback
from runtime.callbacks.checkpoint import Checkpoint
from runtime.callbacks.model_checkpoint import ModelCheckpoint
from runtime.callbacks.model_summary import ModelSummary
from runtime.callbacks.on_exception_checkpoint import OnExceptionCheckpoint
from runtime.callbacks.progress import ProgressBar, RichProgressBar, TQDMProgressBar

__all__ = [
    "Callback",
    "Checkpoint",
    "ModelCheckpoint",
    "ModelSummary",
    "OnExceptionCheckpoint",
    "ProgressBar",
    "RichProgressBar",
    "TQDMProgressBar",
]
