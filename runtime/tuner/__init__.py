"""Tuning helpers: the learning-rate range test (``Tuner(trainer).lr_find(model)``)."""
from runtime.tuner.lr_finder import LRFinder, lr_find
from runtime.tuner.tuning import Tuner

__all__ = ["LRFinder", "Tuner", "lr_find"]
