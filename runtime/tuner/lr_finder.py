"""The learning-rate range test, where Lightning users look for it (``lightning.pytorch.tuner.lr_finder``).

It lives in ``runtime.callbacks.lr_finder`` beside the callback that runs it, below the tuner layer.
"""
from runtime.callbacks.lr_finder import LRFinder, lr_find

__all__ = ["LRFinder", "lr_find"]
