"""Mixins Lightning exposes under ``core.mixins``."""
from runtime.core.mixins.hparams_mixin import HyperparametersMixin

__all__ = ["HyperparametersMixin"]
