"""Strategies own the device, the precision plugin and (for DDP) the process group."""
from runtime.strategies.ddp import DDPStrategy
from runtime.strategies.single_device import SingleDeviceStrategy, Strategy

__all__ = ["DDPStrategy", "SingleDeviceStrategy", "Strategy"]
