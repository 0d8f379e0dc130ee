"""``CUDAAccelerator`` at Lightning's module path."""
from runtime.accelerators import CUDAAccelerator, find_usable_cuda_devices

__all__ = ["CUDAAccelerator", "find_usable_cuda_devices"]
