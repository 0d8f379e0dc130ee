"""Plugins passed as ``Trainer(plugins=[...])``: checkpoint IO (precision plugins live in runtime.precision)."""
from runtime.checkpoint.plugins import AsyncCheckpointIO, CheckpointIO, TorchCheckpointIO, XLACheckpointIO

__all__ = ["AsyncCheckpointIO", "CheckpointIO", "TorchCheckpointIO", "XLACheckpointIO"]
