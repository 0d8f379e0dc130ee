"""Strategies own the device, the precision plugin and (for DDP / FSDP) the process group."""
from runtime.strategies.ddp import DDPStrategy
from runtime.strategies.parallel import ParallelStrategy
from runtime.strategies.single_device import SingleDeviceStrategy, Strategy

__all__ = ["DDPStrategy", "DeepSpeedStrategy", "FSDPStrategy", "ParallelStrategy", "SingleDeviceStrategy", "Strategy"]


def __getattr__(name: str):
    if name == "FSDPStrategy":  # torch.distributed.fsdp is imported only when asked for
        from runtime.strategies.fsdp import FSDPStrategy

        return FSDPStrategy
    if name == "DeepSpeedStrategy":
        from runtime.strategies.deepspeed import DeepSpeedStrategy

        return DeepSpeedStrategy
    raise AttributeError(f"module 'runtime.strategies' has no attribute {name!r}")
