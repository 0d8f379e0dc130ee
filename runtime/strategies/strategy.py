"""``Strategy``, the base class, at Lightning's module path."""
from runtime.strategies.single_device import Strategy

__all__ = ["Strategy"]
