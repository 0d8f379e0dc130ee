"""Tuning helpers: the learning-rate range test and the batch-size finder (``Tuner(trainer)``)."""
from runtime.tuner.batch_size_scaling import scale_batch_size
from runtime.tuner.lr_finder import LRFinder, lr_find
from runtime.tuner.tuning import Tuner

__all__ = ["LRFinder", "Tuner", "lr_find", "scale_batch_size"]
