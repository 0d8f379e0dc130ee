"""Samplers that split data across processes, at Lightning's ``overrides.distributed`` path."""
from typing import Any, Iterator

import torch
from torch.utils.data.distributed import DistributedSampler

__all__ = ["DistributedSamplerWrapper", "UnrepeatedDistributedSampler"]


class DistributedSamplerWrapper:
    """Splits the indices of any sampler across processes (padded so every rank gets as many)."""

    def __init__(self, sampler: Any, num_replicas: int, rank: int, shuffle: bool = False, seed: int = 0) -> None:
        self.sampler, self.num_replicas, self.rank = sampler, num_replicas, rank
        self.epoch = 0

    def __iter__(self):
        indices = list(self.sampler)
        per_rank = -(-len(indices) // self.num_replicas)
        indices += indices[: per_rank * self.num_replicas - len(indices)]
        return iter(indices[self.rank :: self.num_replicas])

    def __len__(self) -> int:
        return -(-len(self.sampler) // self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)


class UnrepeatedDistributedSampler(DistributedSampler):
    """A ``DistributedSampler`` that repeats no sample to even the ranks out: rank ``r`` reads indices
    ``r, r + n, r + 2n, ...`` and ranks may get one sample fewer (what evaluation and prediction need: every
    sample counted once)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(self.dataset, "__len__"):
            raise TypeError("The given dataset must implement the `__len__` method.")
        self.num_samples = len(range(self.rank, len(self.dataset), self.num_replicas))
        self.total_size = len(self.dataset)

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            indices = torch.randperm(len(self.dataset), generator=generator).tolist()
        else:
            indices = list(range(len(self.dataset)))
        return iter(indices[self.rank : self.total_size : self.num_replicas])
