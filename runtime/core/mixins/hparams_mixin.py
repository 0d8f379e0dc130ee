"""``HyperparametersMixin``: ``save_hyperparameters`` / ``hparams`` for any class, not only modules."""
from runtime.core.hparams import HyperparametersMixin

__all__ = ["HyperparametersMixin"]
