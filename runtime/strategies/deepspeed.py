"""``DeepSpeedStrategy``: the name, so code that checks ``isinstance(strategy, DeepSpeedStrategy)`` or imports it
runs; training with DeepSpeed is not available in the runtime yet, and building one says so and what to use.
"""
from typing import Any

from runtime.strategies.parallel import ParallelStrategy
from runtime.utilities.exceptions import MisconfigurationException

__all__ = ["DeepSpeedStrategy"]


class DeepSpeedStrategy(ParallelStrategy):
    """Not available yet: constructing it raises one error naming the replacements.

    ZeRO stage 3 (sharded parameters, gradients and optimizer state) is what ``strategy="fsdp"`` does with
    torch's own ``fully_shard``; ZeRO stages 1-2 save less memory than that; ``strategy="ddp"`` shards nothing.
    """

    strategy_name = "deepspeed"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from runtime.utilities.imports import _DEEPSPEED_AVAILABLE

        installed = "deepspeed is installed, but" if _DEEPSPEED_AVAILABLE else "deepspeed is not installed, and"
        raise MisconfigurationException(
            f"DeepSpeedStrategy: {installed} the runtime does not train with DeepSpeed yet. Use strategy='fsdp' "
            "(FSDPStrategy: ZeRO-3-style sharding of parameters, gradients and optimizer state, with "
            "cpu_offload=True for offloading) or strategy='ddp'."
        )
