"""What a Trainer and each run are built from, and what happens after: loggers and callbacks, the setup
hooks and optimizers before the loops (with fit's checks and the restore), teardown and on_exception after."""
import importlib.util
import inspect
from dataclasses import replace
from typing import Any, Iterable


from runtime.callbacks.callback import Callback
from runtime.callbacks.checkpoint import Checkpoint
from runtime.core.datamodule import LightningDataModule
from runtime.core.optimizer import LightningOptimizer, checked_optimizers
from runtime.trainer import checkpointing, preemption
from runtime.trainer.call import hook_differs
from runtime.trainer.states import TrainerFn, TrainerStatus
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.parsing import clean_namespace
from runtime.utilities.rank_zero import rank_zero_deprecation, rank_zero_warn
from runtime.utilities.warnings import PossibleUserWarning


def prepare(trainer, run, ckpt_path: Any) -> dict[str, Any] | None:
    """Everything before the loops, in Lightning's hook order: callbacks from the module, prepare_data, setup,
    configure_model, the strategy, the weights and callback states of a checkpoint, the optimizers and fit's
    checks, hyperparameters logged. Returns the checkpoint whose training state fit restores after on_fit_start."""
    fn, hooks = run.fn, trainer._hooks
    if fn == TrainerFn.FITTING and trainer.flags.max_epochs_defaulted:
        default_max_epochs(trainer)
    if fn == TrainerFn.FITTING and ckpt_path is None:
        ckpt_path = preemption.preempted_checkpoint(trainer) or preemption.elastic_checkpoint(trainer)
    hparams = getattr(trainer.lightning_module, "hparams", None)
    if hparams:  # a value that cannot be pickled would make every checkpoint of the run fail to save
        clean_namespace(hparams)
    extra = hooks.module("configure_callbacks")
    if extra:  # model-provided callbacks join (replacing trainer callbacks of the same type)
        trainer.callbacks = with_module_callbacks(trainer.callbacks, extra)
        hooks.reset()
    attach_log(trainer)
    if trainer.local_rank == 0:  # downloads and writes to disk happen once per machine
        hooks.datamodule("prepare_data")
        hooks.module("prepare_data")
    hooks.datamodule("setup", stage=fn.value)  # by keyword, as Lightning calls it
    hooks.callbacks("setup", stage=fn.value)
    hooks.module("setup", stage=fn.value)
    with trainer.init_module():  # layers made here go straight to the device, in the precision's dtype
        hooks.module("configure_sharded_model")  # the 1.x name: called only when a module still defines it
        hooks.module("configure_model")
    # each call's metrics are its own (what an earlier fit logged is not a result of this test)
    trainer.callback_metrics.clear()
    trainer.logged_metrics.clear()
    trainer._progress_bar_metrics.clear()
    trainer.strategy.setup(trainer)
    warn_legacy_hooks(hooks, fn)
    trainer.ckpt_path = None
    checkpoint = None
    if ckpt_path is not None:  # Lightning's order: weights and callback states before configure_optimizers
        trainer.ckpt_path = checkpointing.resolve_ckpt_path(trainer, ckpt_path)
        checkpoint = checkpointing.restore_modules(trainer, run, trainer.ckpt_path)
    if fn == TrainerFn.FITTING:
        setup_optimizers(trainer)
        check_fit(trainer, run)
    log_hyperparams(trainer)
    return checkpoint


def attach_log(trainer) -> None:
    """``self.log`` / ``self.log_dict`` inside a callback's hooks log through the module, as in Lightning (a
    callback that defines its own ``log`` keeps it)."""
    model = trainer.lightning_module
    for cb in trainer.callbacks:
        if not hasattr(type(cb), "log"):
            cb.log = model.log
        if not hasattr(type(cb), "log_dict"):
            cb.log_dict = model.log_dict


def teardown(trainer, fn: TrainerFn) -> None:
    """After a call, whatever happened: the strategy, the teardown hooks, the loggers finalised, the profile."""
    hooks = trainer._hooks
    trainer.strategy.teardown()
    if fn == TrainerFn.FITTING and trainer.state.status == TrainerStatus.FINISHED:
        preemption.remove_finished(trainer)  # the preemption file this fit resumed from is done with
    try:
        hooks.datamodule("teardown", stage=fn.value)
        hooks.callbacks("teardown", stage=fn.value)
        hooks.module("teardown", stage=fn.value)
    finally:
        status = "success" if trainer.state.status == TrainerStatus.FINISHED else "failed"
        for lg in trainer.loggers:
            lg.finalize(status)
        trainer.profiler.describe()


def on_exception(trainer, exc: BaseException) -> None:
    """Every on_exception handler runs (callbacks, module, datamodule), each on its own: one that fails must
    neither stop the others (OnExceptionCheckpoint behind it) nor hide the error that stopped the run. Their
    failures are reported: a warning each, and a note on the run's error."""
    module, dm = trainer._lightning_module, trainer.datamodule
    handlers = [(f"{type(cb).__name__}.on_exception", lambda cb=cb: cb.on_exception(trainer, module, exc))
                for cb in trainer.callbacks if hook_differs("on_exception", cb, Callback)]
    if module is not None and hasattr(module, "on_exception"):
        handlers.append((f"{type(module).__name__}.on_exception", lambda: trainer._hooks.module("on_exception", exc)))
    if dm is not None and hook_differs("on_exception", dm, LightningDataModule):
        handlers.append((f"{type(dm).__name__}.on_exception", lambda: dm.on_exception(exc)))
    for name, handler in handlers:
        try:
            handler()
        except Exception as err:
            report = f"{name} failed: {type(err).__name__}: {err}"
            rank_zero_warn(f"While handling {type(exc).__name__}: {report}")
            if hasattr(exc, "add_note"):
                exc.add_note(report)


def make_loggers(logger: Any, root_dir: str) -> list:
    """The loggers a ``logger`` flag stands for (``flags.logger``: fast_dev_run and barebones already turned it off)."""
    if logger is False:
        return []
    if logger == "dummy":  # fast_dev_run: nothing is written
        from runtime.loggers.logger import DummyLogger

        return [DummyLogger()]
    if logger is True or logger is None:
        from runtime.loggers import CSVLogger, TensorBoardLogger

        if importlib.util.find_spec("tensorboard") is not None:
            return [TensorBoardLogger(save_dir=root_dir)]
        rank_zero_warn("tensorboard is not installed: logging to CSV instead (`pip install tensorboard` for TensorBoard).")
        return [CSVLogger(save_dir=root_dir)]
    return list(logger) if isinstance(logger, Iterable) else [logger]


def default_max_epochs(trainer) -> None:
    """``max_epochs`` was not given: the first fit bounds the run at 1000 epochs and says so, as Lightning; with a
    ``Timer`` among the callbacks the time bounds it instead (no epoch limit)."""
    from runtime.callbacks import Timer

    if any(isinstance(cb, Timer) for cb in trainer.callbacks):
        trainer.flags = replace(trainer.flags, max_epochs=-1, max_epochs_defaulted=False)
        return
    rank_zero_warn("`max_epochs` was not set. Setting it to 1000 epochs. To train without an epoch limit, set "
                   "`max_epochs=-1`.", category=PossibleUserWarning)
    trainer.flags = replace(trainer.flags, max_epochs_defaulted=False)


def make_callbacks(callbacks: list, enable_checkpointing: bool | None, progress: bool, summary: bool) -> list:
    """The user's callbacks plus the default progress bar, model summary and checkpoint, checkpoints last."""
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise MisconfigurationException(f"callbacks must be Callback instances; got {type(cb).__name__}: {cb!r:.60}")
    has_ckpt = any(isinstance(cb, Checkpoint) for cb in callbacks)
    if enable_checkpointing is False and has_ckpt:
        raise MisconfigurationException(
            "Trainer was configured with `enable_checkpointing=False` but found `ModelCheckpoint` in callbacks list: "
            "remove one of the two."
        )
    from runtime.callbacks import ModelCheckpoint, ModelSummary, ProgressBar, TextProgressBar

    extra = []
    if progress and not any(isinstance(cb, ProgressBar) for cb in callbacks):
        extra.append(TextProgressBar())  # ours: plain text, one line per epoch when not on a terminal
    if summary and not any(isinstance(cb, ModelSummary) for cb in callbacks):
        extra.append(ModelSummary())
    if enable_checkpointing is not False and not has_ckpt:
        extra.append(ModelCheckpoint())
    return checkpoints_last([*callbacks, *extra])


def checkpoints_last(callbacks: list) -> list:
    return [cb for cb in callbacks if not isinstance(cb, Checkpoint)] + [cb for cb in callbacks if isinstance(cb, Checkpoint)]


def with_module_callbacks(callbacks: list, extra: Any) -> list:
    """``configure_callbacks``' callbacks join, replacing the trainer's callbacks of the same types."""
    extra = extra if isinstance(extra, (list, tuple)) else [extra]
    types = {type(cb) for cb in extra}
    return checkpoints_last([cb for cb in callbacks if type(cb) not in types] + list(extra))


def setup_optimizers(trainer) -> None:
    """``configure_optimizers`` into the trainer's optimizers, their Lightning wrappers and scheduler configs."""
    model = trainer.lightning_module
    setup = checked_optimizers(trainer._hooks.module("configure_optimizers"), model)
    trainer.optimizers = setup.optimizers
    trainer._lightning_optimizers = [LightningOptimizer(o, trainer) for o in setup.optimizers]
    trainer.lr_scheduler_configs = setup.lr_schedulers


def warn_legacy_hooks(hooks, fn: TrainerFn) -> None:
    names = {
        TrainerFn.FITTING: ("training_step_end", "training_epoch_end", "validation_step_end", "validation_epoch_end"),
        TrainerFn.VALIDATING: ("validation_step_end", "validation_epoch_end"),
        TrainerFn.TESTING: ("test_step_end", "test_epoch_end"),
    }.get(fn, ())
    for legacy in names:
        if hooks.module_overrides(legacy):
            rank_zero_deprecation(f"`{legacy}` is the 1.0 data flow; it still runs. In 2.x keep outputs yourself in `on_*_epoch_end`.")
    owners = [hooks.trainer.lightning_module, *hooks.trainer.callbacks]
    for legacy, new in (("on_epoch_start", "on_train_epoch_start"), ("on_epoch_end", "on_train_epoch_end")):
        if any(callable(getattr(owner, legacy, None)) for owner in owners):
            rank_zero_deprecation(f"`{legacy}` is the 1.x spelling; it still runs at the start/end of every training, "
                                  f"validation and test epoch. In 2.x use `{new}` (and its validation/test twins).")


def check_fit(trainer, run) -> None:
    """What fit needs from the module and flags; records on ``run`` how training_step is called."""
    model = trainer.lightning_module
    hooks = trainer._hooks
    flags = trainer.flags
    if not hooks.module_overrides("training_step"):
        raise MisconfigurationException(f"`Trainer.fit` needs `training_step` defined on {type(model).__name__}.")
    if not model.automatic_optimization:
        if flags.gradient_clip_val:
            raise MisconfigurationException(
                f"gradient_clip_val={flags.gradient_clip_val} clips automatically, which manual optimization does not do. "
                "Remove it and call `self.clip_gradients(opt, gradient_clip_val=...)` in `training_step`, or use automatic optimization."
            )
        if flags.accumulate_grad_batches != 1:
            raise MisconfigurationException(
                f"accumulate_grad_batches={flags.accumulate_grad_batches} accumulates automatically, which manual optimization "
                "does not do. Remove it and step your optimizers every N batches in `training_step`, or use automatic optimization."
            )
    params = list(inspect.signature(model.training_step).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    run.legacy_optimizer_idx = len(positional) >= 3 and positional[2].name in ("optimizer_idx", "opt_idx", "optimizer_i")
    if run.legacy_optimizer_idx:
        if model.automatic_optimization:
            raise MisconfigurationException(
                "`training_step` takes an `optimizer_idx` argument, which automatic optimization no longer passes. "
                "Remove it, or switch to manual optimization (`self.automatic_optimization = False`) and read the "
                "optimizers with `self.optimizers()`."
            )
        rank_zero_deprecation("`training_step(batch, batch_idx, optimizer_idx)` is the 1.0 spelling; drop `optimizer_idx`.")
    run.has_step_end = hooks.module_overrides("training_step_end")


def log_hyperparams(trainer) -> None:
    """Hand the module's (and datamodule's) saved hyperparameters to every logger, once per run."""
    if not trainer.loggers:
        return
    model, dm = trainer.lightning_module, trainer.datamodule
    hparams: dict[str, Any] = {}
    if getattr(model, "_log_hyperparams", True):
        hparams.update(model.hparams_initial)
    if dm is not None and getattr(dm, "_log_hyperparams", True):
        clash = [k for k, v in dm.hparams_initial.items() if k in hparams and hparams[k] != v]
        if clash:
            raise RuntimeError(
                f"Error while merging hparams: the keys {clash} are present in both the LightningModule's and "
                "LightningDataModule's hparams but have different values. Rename one, or pass `logger=False` to one "
                "of the `save_hyperparameters` calls."
            )
        hparams.update(dm.hparams_initial)
    for lg in trainer.loggers:
        if trainer.is_global_zero:  # create the writer and its folder now, not at the first write inside the loop
            getattr(lg, "experiment", None)
        if hparams:
            lg.log_hyperparams(hparams)
        lg.log_graph(model)
        lg.save()
