"""``CPUAccelerator`` at Lightning's module path."""
from runtime.accelerators import CPUAccelerator, get_cpu_stats

__all__ = ["CPUAccelerator", "get_cpu_stats"]
