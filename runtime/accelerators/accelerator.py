"""``Accelerator``, the base class, at Lightning's module path."""
from runtime.accelerators import Accelerator

__all__ = ["Accelerator"]
