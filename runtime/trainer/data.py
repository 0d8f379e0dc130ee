"""Where loaders come from (arguments, datamodule, module hooks), how many batches run, when validation
runs (the schedule), and iteration.

The functions that source loaders take the trainer (its module, datamodule and flags) and the ``Run``
of the current call, which holds what they found.
"""
import time
from typing import Any, Iterator

from torch.utils.data import DataLoader, IterableDataset, RandomSampler, SequentialSampler

from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.overrides.distributed import DistributedSamplerWrapper
from runtime.trainer.call import hook_differs
from runtime.utilities.model_helpers import is_overridden as overrides  # Lightning's test: a wrapper of the base is no override
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


# ------------------------------------------------------------------------------------ sourcing
def sources(loaders: Any, datamodule: Any, name: str) -> tuple[Any, Any]:
    """``(loaders, datamodule)`` an entry point was given: a datamodule passed in the loaders' place is taken as
    the datamodule; loaders and a datamodule together are an error."""
    if isinstance(loaders, LightningDataModule):
        loaders, datamodule = None, loaders
    if loaders is not None and datamodule is not None:
        raise MisconfigurationException(f"Pass either `{name}` or `datamodule`, not both.")
    if datamodule is not None and not isinstance(datamodule, LightningDataModule):
        raise MisconfigurationException(f"datamodule must be a LightningDataModule, got {type(datamodule).__name__}.")
    return loaders, datamodule


def request_loaders(trainer, run, kind: str) -> list:
    """Loaders for ``kind`` from the call's arguments, else the datamodule, else the module."""
    given = run.loader_args.get(kind)
    if given is not None:
        loaders = as_list(given)
    else:
        hook = _HOOK[kind]
        source = None
        if trainer.datamodule is not None and hook_differs(hook, trainer.datamodule, LightningDataModule):
            source = trainer.datamodule
        elif hook_differs(hook, trainer.lightning_module, LightningModule):
            source = trainer.lightning_module
        loaders = [] if source is None else as_list(trainer._hooks.loader_hook(source, hook))
    for dl in loaders:
        if not hasattr(dl, "__iter__"):
            raise MisconfigurationException(
                f"The {kind} dataloader is a {type(dl).__name__} ({dl!r:.40}); pass a torch DataLoader or any iterable of batches."
            )
    flags = trainer.flags
    if kind == "train" and flags.overfit_batches:
        loaders = [without_shuffle(dl) for dl in loaders]
    if trainer.world_size > 1 and flags.use_distributed_sampler and kind != "predict":
        loaders = [with_distributed_sampler(dl, trainer.world_size, trainer.global_rank, kind == "train") for dl in loaders]
    run.loaders[kind] = loaders
    run.loaders_epoch[kind] = trainer.current_epoch
    return loaders


def train_loader(trainer, run) -> Any:
    """The training loader; also counts its batches and sets the validation schedule from them."""
    loaders = request_loaders(trainer, run, "train")
    if not loaders:
        raise MisconfigurationException(
            "`Trainer.fit` found no training data: pass `train_dataloaders=`, a datamodule with `train_dataloader()`, "
            "or define `train_dataloader()` on the model."
        )
    if len(loaders) > 1:
        raise MisconfigurationException("Training takes one dataloader; combine several into one dataset or loader.")
    flags = trainer.flags
    n = run.num_training_batches = num_batches(loaders[0], flags.limit_train_batches, "limit_train_batches")
    if n == 0 and flags.limit_train_batches != 0:
        rank_zero_warn("The training dataloader has no batches; nothing is trained.")
    vci = flags.val_check_interval
    if flags.val_check_time is not None:
        run.val_check_batch = float("inf")  # the clock decides (``val_due``)
    elif isinstance(vci, int) and not isinstance(vci, bool):
        if n != float("inf") and vci > n and flags.check_val_every_n_epoch is not None:
            raise ValueError(  # ValueError, as Lightning raises here
                f"`val_check_interval` ({vci}) must be less than or equal to the number of the training batches "
                f"({int(n)}). Pass a smaller value, or check_val_every_n_epoch=None to count batches across epochs."
            )
        run.val_check_batch = vci
    elif n == float("inf"):
        if vci != 1.0:
            raise MisconfigurationException(
                f"val_check_interval={vci} is a fraction of an epoch, but the training dataloader has no length; pass an int."
            )
        run.val_check_batch = float("inf")
    else:
        run.val_check_batch = max(1, int(n * vci))
    return loaders[0]


def train_reload_due(trainer, run) -> bool:
    n = trainer.flags.reload_dataloaders_every_n_epochs
    return bool(n) and trainer.current_epoch - run.loaders_epoch.get("train", 0) >= n


def val_loaders(trainer, run) -> list:
    """The validation loaders, asked for again every ``reload_dataloaders_every_n_epochs``."""
    n = trainer.flags.reload_dataloaders_every_n_epochs
    if "val" not in run.loaders or (n and trainer.current_epoch - run.loaders_epoch.get("val", 0) >= n):
        loaders = request_loaders(trainer, run, "val")
        run.num_val_batches = [num_batches(dl, trainer.flags.limit_val_batches, "limit_val_batches") for dl in loaders]
    return run.loaders["val"]


_EVAL = {"val": ("validation_step", "validate"), "test": ("test_step", "test"), "predict": ("predict_step", "predict")}


def eval_loaders(trainer, run, kind: str) -> tuple[list, list]:
    """``(loaders, batch counts)`` for ``Trainer.validate`` / ``test`` / ``predict``, or an error saying what is missing."""
    step, fn = _EVAL[kind]
    if kind != "predict" and not trainer._hooks.module_overrides(step):
        raise MisconfigurationException(f"`Trainer.{fn}` needs `{step}` defined on {type(trainer.lightning_module).__name__}.")
    loaders = request_loaders(trainer, run, kind)
    if not loaders:
        what = "predict data" if kind == "predict" else "data"
        raise MisconfigurationException(
            f"`Trainer.{fn}` found no {what}: pass `dataloaders`, a datamodule with `{kind}_dataloader()`, "
            f"or define `{kind}_dataloader()` on the model."
        )
    limit = getattr(trainer.flags, f"limit_{kind}_batches")
    limits = [num_batches(dl, limit, f"limit_{kind}_batches") for dl in loaders]
    setattr(run, f"num_{kind}_batches", limits)
    return loaders, limits


# ------------------------------------------------------------------------------------ validation schedule
def val_defined(trainer, run) -> bool:
    """Validation is configured (without asking for the loaders yet): Lightning's ``enable_validation``."""
    hooks = trainer._hooks
    if not hooks.module_overrides("validation_step") or trainer.flags.limit_val_batches == 0:
        return False
    if run.loader_args.get("val") is not None:
        return True
    dm = trainer.datamodule
    return (dm is not None and hook_differs("val_dataloader", dm, LightningDataModule)) or hooks.module_overrides("val_dataloader")


def val_enabled(trainer, run) -> bool:
    """Some validation batch will run (asks for the loaders)."""
    if not trainer._hooks.module_overrides("validation_step") or trainer.flags.limit_val_batches == 0:
        return False
    if run.val_enabled is None or trainer.flags.reload_dataloaders_every_n_epochs:
        run.val_enabled = any(n > 0 for n in run.num_val_batches) if val_loaders(trainer, run) else False
    return run.val_enabled


def val_epoch_due(trainer) -> bool:
    n = trainer.flags.check_val_every_n_epoch
    return n is None or (trainer.current_epoch + 1) % n == 0


def val_due(trainer, run, batch_idx: int, is_last: bool, stopping: bool) -> bool:
    """Whether validation runs after this batch, in an epoch that validates; ``stopping``: training ends now."""
    interval = trainer.flags.val_check_time
    if interval is not None:  # by the clock: only when the interval has passed (or training stops)
        due = stopping or time.monotonic() - run.last_val_time >= interval
        if trainer.world_size > 1:  # clocks differ across ranks: rank zero decides, or the ranks could hang
            due = bool(trainer.strategy.broadcast(due, 0))
        return due
    vcb = run.val_check_batch
    if vcb == float("inf"):
        return is_last
    if stopping:
        return True
    flags = trainer.flags
    if isinstance(flags.limit_train_batches, int) and run.num_training_batches == float("inf"):
        return (batch_idx + 1) % flags.limit_train_batches == 0
    index = trainer._progress.total_batch_idx - 1 if flags.check_val_every_n_epoch is None else batch_idx
    return (index + 1) % vcb == 0


# ------------------------------------------------------------------------------------ batch transfer
_TRANSFER_HOOKS = ("on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer")


def batch_hook(trainer, name: str, *args: Any) -> Any:
    """A batch-transfer hook: the datamodule's when it overrides it, else the module's."""
    dm = trainer.datamodule
    if dm is not None and overrides(name, dm, LightningDataModule):
        return trainer._hooks.datamodule(name, *args)
    return trainer._hooks.module(name, *args)


def transfer_is_noop(trainer, run) -> bool:
    """True when moving a batch would change nothing: CPU, no transfer hook overridden, no dtype cast."""
    if run.transfer_noop is None:
        dm = trainer.datamodule
        run.transfer_noop = (
            trainer.strategy.root_device.type == "cpu"
            and not trainer.precision_plugin.casts_inputs
            and not any(trainer._hooks.module_overrides(n) for n in _TRANSFER_HOOKS)
            and not (dm is not None and any(overrides(n, dm, LightningDataModule) for n in _TRANSFER_HOOKS))
        )
    return run.transfer_noop


class DataConnector:
    """``trainer._data_connector``, as Lightning's tests and some user code reach for it: name the loaders (or the
    datamodule) the next ``setup_data()`` / call reads. Loaders given here are this trainer's current call's."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer

    def attach_data(self, model, train_dataloaders: Any = None, val_dataloaders: Any = None,
                    test_dataloaders: Any = None, predict_dataloaders: Any = None, datamodule: Any = None) -> None:
        self.attach_dataloaders(model, train_dataloaders, val_dataloaders, test_dataloaders, predict_dataloaders)
        self.attach_datamodule(model, datamodule)

    def attach_dataloaders(self, model, train_dataloaders: Any = None, val_dataloaders: Any = None,
                           test_dataloaders: Any = None, predict_dataloaders: Any = None) -> None:
        trainer = self.trainer
        trainer._lightning_module, model.trainer = model, trainer
        given = {"train": train_dataloaders, "val": val_dataloaders, "test": test_dataloaders, "predict": predict_dataloaders}
        trainer._run.loader_args.update(given)  # None: the module's (or datamodule's) *_dataloader hook
        for kind in given:  # a new source: the next setup_data asks it again
            trainer._run.loaders.pop(kind, None)

    def attach_datamodule(self, model, datamodule: Any = None) -> None:
        if datamodule is not None:
            self.trainer.datamodule, datamodule.trainer = datamodule, self.trainer
