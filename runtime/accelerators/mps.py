"""``MPSAccelerator`` at Lightning's module path."""
from runtime.accelerators import MPSAccelerator

__all__ = ["MPSAccelerator"]
