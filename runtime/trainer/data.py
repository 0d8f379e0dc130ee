"""Where loaders come from (arguments, datamodule, module hooks), how many batches run, and iteration."""
from typing import Any, Iterator

from torch.utils.data import DataLoader, IterableDataset, RandomSampler, SequentialSampler

from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn

_HOOK = {"train": "train_dataloader", "val": "val_dataloader", "test": "test_dataloader", "predict": "predict_dataloader"}


def as_list(loaders: Any) -> list:
    if loaders is None:
        return []
    if isinstance(loaders, dict):
        return list(loaders.values())
    if isinstance(loaders, (list, tuple)):
        return list(loaders)
    return [loaders]


def has_len(loader: Any) -> bool:
    try:
        len(loader)
        return True
    except (TypeError, NotImplementedError):
        return False


def resolve_limit(name: str, limit: int | float | None, length: float) -> float:
    """The number of batches to run: ``limit`` is an int count or a fraction of ``length``."""
    if limit is None:
        return length
    if isinstance(limit, float) and limit <= 1.0:
        if length == float("inf"):
            if limit == 1.0:
                return length
            raise MisconfigurationException(
                f"{name}={limit} is a fraction, but the dataloader has no length; pass an int number of batches instead."
            )
        count = int(length * limit)
        if limit > 0 and count == 0:
            rank_zero_warn(f"{name}={limit} of {int(length)} batches is zero batches; nothing runs.")
        return count
    return min(length, int(limit))


def check_limit(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MisconfigurationException(f"{name}={value!r} must be an int (number of batches) or a float fraction in [0.0, 1.0].")
    if value < 0:
        raise MisconfigurationException(f"{name}={value} must not be negative: pass an int number of batches or a fraction in [0.0, 1.0].")
    if isinstance(value, float) and value > 1.0:
        raise MisconfigurationException(
            f"{name}={value} is a float above 1.0; a float means a fraction of the batches (0.0 to 1.0). "
            f"For a number of batches pass an int: {name}={int(value)}."
        )


def num_batches(loader: Any, limit: Any, name: str) -> float:
    length = len(loader) if has_len(loader) else float("inf")
    return resolve_limit(name, limit, length)


def iterate(loader: Any, limit: float, start: int = 0) -> Iterator[tuple[int, Any, bool]]:
    """Yield ``(batch_idx, batch, is_last)`` from ``loader`` (an iterable or an iterator already made).

    Numbering starts at ``start`` (a loader restored mid-epoch from its own state). It looks one batch
    ahead only when the length is unknown.
    """
    if limit <= start:
        return
    if limit != float("inf"):
        last = int(limit) - 1
        for idx, batch in enumerate(loader, start):
            yield idx, batch, idx == last
            if idx == last:
                return
        return
    it = iter(loader)
    try:
        nxt = next(it)
    except StopIteration:
        return
    idx = start
    while True:
        cur = nxt
        try:
            nxt = next(it)
        except StopIteration:
            yield idx, cur, True
            return
        yield idx, cur, False
        idx += 1


def without_shuffle(loader: Any) -> Any:
    """The same DataLoader with a sequential sampler (used by ``overfit_batches``)."""
    if not isinstance(loader, DataLoader) or not isinstance(loader.sampler, RandomSampler):
        return loader
    rank_zero_warn("overfit_batches replaces the training dataloader's shuffling sampler with a sequential one.")
    return _rebuild(loader, SequentialSampler(loader.dataset))


def _rebuild(loader: DataLoader, sampler: Any) -> DataLoader:
    """The same DataLoader (workers, collate, pinning, generator ...) drawing indices from ``sampler``."""
    return DataLoader(
        loader.dataset, batch_size=loader.batch_size, sampler=sampler, num_workers=loader.num_workers,
        collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last, timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn, generator=loader.generator,
        persistent_workers=loader.persistent_workers if loader.num_workers > 0 else False,
        prefetch_factor=loader.prefetch_factor if loader.num_workers > 0 else None,
    )


def with_distributed_sampler(loader: Any, world_size: int, rank: int, training: bool) -> Any:
    """The loader with each process reading its own shard (``use_distributed_sampler``).

    A shuffling loader gets a shuffling DistributedSampler seeded from ``seed_everything``; a user's own
    sampler is wrapped, so its order is kept and split across processes.
    """
    import os

    from torch.utils.data.distributed import DistributedSampler

    if not isinstance(loader, DataLoader) or isinstance(loader.dataset, IterableDataset):
        return loader  # iterable data shards itself (or the user shards it)
    if loader.batch_sampler is not None and type(loader.batch_sampler).__name__ != "BatchSampler":
        return loader  # a custom batch sampler decides everything; leave it alone
    sampler = loader.sampler
    if isinstance(sampler, DistributedSampler):
        return loader
    seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
    if isinstance(sampler, (RandomSampler, SequentialSampler)):
        new = DistributedSampler(loader.dataset, num_replicas=world_size, rank=rank,
                                 shuffle=isinstance(sampler, RandomSampler) and training, seed=seed)
    else:
        new = DistributedSamplerWrapper(sampler, num_replicas=world_size, rank=rank, shuffle=False, seed=seed)
    return _rebuild(loader, new)


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
