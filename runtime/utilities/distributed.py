"""Distributed helpers user code imports from here (the 1.x home of ``rank_zero_only``)."""
import torch

from runtime.utilities.rank_zero import rank_zero_only

__all__ = ["distributed_available", "rank_zero_only"]


def distributed_available() -> bool:
    """Whether a default process group is up."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()
