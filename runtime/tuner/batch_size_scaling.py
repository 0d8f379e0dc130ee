"""The batch-size search, where Lightning users look for it (``lightning.pytorch.tuner.batch_size_scaling``).

It lives in ``runtime.callbacks.batch_size_finder`` beside the callback that runs it, below the tuner layer.
"""
from runtime.callbacks.batch_size_finder import scale_batch_size

__all__ = ["scale_batch_size"]
