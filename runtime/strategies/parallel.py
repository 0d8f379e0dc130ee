"""``ParallelStrategy``: the base of the strategies that run several processes (DDP, FSDP).

It answers the process questions from its cluster environment: how many processes, which one this is.
"""
from runtime.strategies.single_device import Strategy

__all__ = ["ParallelStrategy"]


class ParallelStrategy(Strategy):
    """A strategy over ``parallel_devices`` x ``num_nodes`` processes; ranks come from ``cluster_environment``."""

    multi_process = True
    parallel_devices: list | None = None
    cluster_environment = None
    num_nodes: int = 1
    num_processes: int = 1

    # -- process facts, read from the environment
    @property
    def world_size(self) -> int:
        return self.num_processes * self.num_nodes

    @property
    def global_rank(self) -> int:
        return self.cluster_environment.global_rank()

    @property
    def local_rank(self) -> int:
        return self.cluster_environment.local_rank()

    @property
    def node_rank(self) -> int:
        return self.cluster_environment.node_rank()

    @property
    def distributed_sampler_kwargs(self) -> dict[str, int]:
        return {"num_replicas": self.world_size, "rank": self.global_rank}
