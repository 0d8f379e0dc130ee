"""BatchSizeFinder: find the largest batch size that fits when a run starts, then run with it; and the search itself.

Find the largest batch size that fits: grow it until a trial runs out of memory, keep the last that fitted.

Each trial is a short run (``steps_per_trial`` batches) of a separate, quiet Trainer on the same device
and precision, so the user's trainer, loggers and callbacks see nothing of the search. The module's
weights and the random state are put back afterwards; only the batch-size attribute keeps the result.
``runtime.tuner`` (``Tuner(trainer).scale_batch_size(model)``) is the entry point Lightning users know; it calls
``scale_batch_size`` here.
"""
import copy
import logging
from typing import Any

from runtime.callbacks.callback import Callback
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.memory import garbage_collection_cuda, is_oom_error
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.seed import isolate_rng
from runtime.utilities.suggest import invalid_choice

__all__ = ["BatchSizeFinder", "scale_batch_size"]

log = logging.getLogger(__name__)

_MODES = ("power", "binsearch")
_METHODS = ("fit", "validate", "test", "predict")


def _holders(model: Any, datamodule: Any, name: str) -> list[tuple[Any, bool]]:
    """Every place ``name`` lives, as (object, is_mapping): the module, its hparams, the datamodule, its hparams."""
    found = []
    for obj in (model, datamodule):
        if obj is None:
            continue
        if hasattr(obj, name) and not callable(getattr(obj, name)):
            found.append((obj, False))
        hparams = getattr(obj, "hparams", None)
        if isinstance(hparams, dict) and name in hparams:
            found.append((hparams, True))
    return found


def _get(holders: list[tuple[Any, bool]], name: str) -> int:
    obj, is_mapping = holders[-1]  # the datamodule's value wins, as in Lightning
    return obj[name] if is_mapping else getattr(obj, name)


def _set(holders: list[tuple[Any, bool]], name: str, value: int) -> None:
    for obj, is_mapping in holders:
        if is_mapping:
            obj[name] = value
        else:
            setattr(obj, name, value)


def scale_batch_size(
    trainer: Any,
    model: Any,
    train_dataloaders: Any = None,
    val_dataloaders: Any = None,
    dataloaders: Any = None,
    datamodule: Any = None,
    method: str = "fit",
    mode: str = "power",
    steps_per_trial: int = 3,
    init_val: int = 2,
    max_trials: int = 25,
    batch_arg_name: str = "batch_size",
) -> int | None:
    """The largest batch size (from ``init_val``) that runs ``steps_per_trial`` steps of ``method`` without
    running out of memory; it is also written to ``batch_arg_name`` on the module / datamodule (and hparams).

    ``mode="power"`` doubles until a trial fails; ``"binsearch"`` then bisects between the last size that
    fitted and the first that did not. The batch size never exceeds the dataset's length.

    Example::

        new_size = Tuner(trainer).scale_batch_size(model, mode="binsearch")
    """
    if mode not in _MODES:
        raise ValueError(invalid_choice("scale_batch_size(mode)", mode, _MODES))
    if method not in _METHODS:
        raise ValueError(invalid_choice("scale_batch_size(method)", method, _METHODS))
    if any(d is not None for d in (train_dataloaders, val_dataloaders, dataloaders)):
        raise MisconfigurationException(
            "The batch scaling feature cannot be used with dataloaders passed directly to `.fit()`, `.validate()`,"
            " `.test()` or `.predict()`. Please disable the feature or incorporate the dataloader into your"
            " LightningModule or LightningDataModule."
        )
    if trainer.fast_dev_run:
        rank_zero_warn("Skipping batch size scaler since `fast_dev_run` is enabled.")
        return None
    datamodule = datamodule if datamodule is not None else trainer.datamodule
    holders = _holders(model, datamodule, batch_arg_name)
    if not holders:
        raise MisconfigurationException(
            f"Field {batch_arg_name} not found in `model`, `datamodule`, nor their `hparams` attributes."
            f" Give the module or the datamodule a `{batch_arg_name}` attribute its dataloader reads, or pass"
            " `batch_arg_name=` the name it has."
        )

    initial_weights = copy.deepcopy(model.state_dict())
    attached = model._trainer
    dm_attached = getattr(datamodule, "trainer", None) if datamodule is not None else None
    _set(holders, batch_arg_name, init_val)
    size, low, high, any_success = init_val, 1, None, False
    try:
        with isolate_rng():
            for _ in range(max_trials):
                garbage_collection_cuda()
                try:
                    limit = _run_trial(trainer, model, datamodule, method, steps_per_trial)
                except RuntimeError as exc:
                    if not is_oom_error(exc):
                        raise
                    garbage_collection_cuda()
                    high = size
                    new = (low + high) // 2 if mode == "binsearch" else max(1, size // 2)
                    log.info(f"Batch size {size} failed, trying batch size {new}")
                    size = new
                    _set(holders, batch_arg_name, size)
                    if (mode == "power" and any_success) or high - low <= 1 or size < 1:
                        break
                    continue
                any_success = True
                low = size
                if mode == "binsearch" and high is not None:
                    if high - low <= 1:
                        break
                    new = (low + high) // 2
                else:
                    new = size * 2
                if limit is not None and new > limit:
                    new = limit  # no point in a batch larger than the dataset
                if new == size:
                    break
                log.info(f"Batch size {size} succeeded, trying batch size {new}")
                size = new
                _set(holders, batch_arg_name, size)
    finally:
        model.load_state_dict(initial_weights)
        model._trainer = attached
        if datamodule is not None:
            datamodule.trainer = dm_attached
    if not any_success:
        raise RuntimeError(f"No batch size fits: even batch size {init_val} ran out of memory. Lower `init_val`.")
    log.info(f"Finished batch size finder, will continue with full run using batch size {size}")
    return size


def _run_trial(trainer: Any, model: Any, datamodule: Any, method: str, steps: int) -> int | None:
    """Run ``steps`` batches of ``method``; return the dataset length when it bounds the batch size."""
    device = trainer.strategy.root_device
    # a Trainer of the caller's own class, from its public settings only (this layer does not import the Trainer)
    trial = type(trainer)(
        accelerator=trainer.accelerator,
        devices=1 if device.index is None else [device.index],
        precision=trainer.precision,
        max_steps=steps,
        limit_train_batches=steps,
        limit_val_batches=steps if method == "validate" else 0,
        limit_test_batches=steps,
        limit_predict_batches=steps,
        num_sanity_val_steps=0,
        accumulate_grad_batches=trainer.accumulate_grad_batches,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=trainer.default_root_dir,
    )
    run = {"fit": trial.fit, "validate": trial.validate, "test": trial.test, "predict": trial.predict}[method]
    run(model, datamodule=datamodule)
    loaders = {"fit": "train_dataloader", "validate": "val_dataloaders", "test": "test_dataloaders",
               "predict": "predict_dataloaders"}
    loader = getattr(trial, loaders[method], None)
    loader = loader[0] if isinstance(loader, (list, tuple)) and loader else loader
    dataset = getattr(loader, "dataset", None)
    try:
        return len(dataset) if dataset is not None else None
    except TypeError:  # an iterable dataset without a length
        return None


class BatchSizeFinder(Callback):
    """Scale ``batch_arg_name`` (on the module, the datamodule or their hparams) before the run starts.

    Args:
        mode: "power" (double until out of memory) or "binsearch" (then bisect).
        steps_per_trial: batches each trial runs.
        init_val: the first batch size tried.
        max_trials: at most this many trials.
        batch_arg_name: the attribute the dataloader hooks read.

    Example::

        Trainer(callbacks=[BatchSizeFinder(mode="binsearch")]).fit(model)   # model.batch_size is then the result
    """

    SUPPORTED_MODES = ("power", "binsearch")

    def __init__(self, mode: str = "power", steps_per_trial: int = 3, init_val: int = 2, max_trials: int = 25,
                 batch_arg_name: str = "batch_size") -> None:
        mode = mode.lower() if isinstance(mode, str) else mode
        if mode not in self.SUPPORTED_MODES:
            raise ValueError(invalid_choice("BatchSizeFinder(mode)", mode, self.SUPPORTED_MODES))
        self.mode = mode
        self._steps_per_trial = steps_per_trial
        self._init_val = init_val
        self._max_trials = max_trials
        self._batch_arg_name = batch_arg_name
        self.optimal_batch_size: int | None = init_val

    def setup(self, trainer, pl_module, stage: str) -> None:
        if trainer.world_size > 1:
            raise MisconfigurationException("The Batch size finder is not supported with distributed strategies.")
        if any(v is not None for v in trainer._run.loader_args.values()):
            raise MisconfigurationException(
                "The Batch size finder cannot be used with dataloaders passed directly to `.fit()`, `.validate()`,"
                " `.test()` or `.predict()`: define the dataloader in the LightningModule or LightningDataModule."
            )

    def scale_batch_size(self, trainer, pl_module) -> None:
        fn = getattr(trainer.state.fn, "value", trainer.state.fn)
        method = {"fit": "fit", "validate": "validate", "test": "test", "predict": "predict"}.get(fn, "fit")
        self.optimal_batch_size = scale_batch_size(
            trainer, pl_module, datamodule=trainer.datamodule, method=method, mode=self.mode,
            steps_per_trial=self._steps_per_trial, init_val=self._init_val, max_trials=self._max_trials,
            batch_arg_name=self._batch_arg_name,
        )

    def on_fit_start(self, trainer, pl_module) -> None:
        self.scale_batch_size(trainer, pl_module)

    def on_validation_start(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or getattr(trainer.state.fn, "value", trainer.state.fn) != "validate":
            return
        self.scale_batch_size(trainer, pl_module)

    def on_test_start(self, trainer, pl_module) -> None:
        self.scale_batch_size(trainer, pl_module)

    def on_predict_start(self, trainer, pl_module) -> None:
        self.scale_batch_size(trainer, pl_module)

