"""A run in and out of a checkpoint: what goes in (``dump_checkpoint``), how it comes back (``restore``),
and which file a ``ckpt_path`` names.

The dict carries Lightning's keys plus the runtime's exact-resume state (the progress record, the
random states and where the data stood). Writing and reading the file is the strategy's checkpoint IO
(``runtime/checkpoint``); this module is the part that knows the trainer.
"""
import os
from dataclasses import asdict
from typing import Any

from runtime.checkpoint.compat import lightning_loops, progress_from_lightning
from runtime.checkpoint.optimizers import check_optimizer_states
from runtime.checkpoint.weights import clean_state_dict, load_weights
from runtime.core.datamodule import LightningDataModule
from runtime.trainer.progress import Progress
from runtime.trainer.resume import rng_to_checkpoint
from runtime.trainer.states import TrainerFn
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.model_helpers import is_overridden as overrides  # Lightning's test: a wrapper of the base is no override
from runtime.utilities.rank_zero import rank_zero_info, rank_zero_warn
from runtime.utilities.seed import collect_rng_states

LIGHTNING_COMPAT_VERSION = "2.5.0"  # written as "pytorch-lightning_version" so Lightning reads our checkpoints

class CheckpointConnector:
    """``trainer._checkpoint_connector``, as Lightning's tests and some user code reach for it: the checkpoint dict
    of the run as it stands (what ``trainer.save_checkpoint`` writes)."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer

    def dump_checkpoint(self, weights_only: bool = False) -> dict[str, Any]:
        return self.trainer._dump_checkpoint(weights_only)


def dump_checkpoint(trainer, run, weights_only: bool = False) -> dict[str, Any]:
    """The checkpoint dict of the trainer's current state (only weights and progress when ``weights_only``)."""
    model = trainer.lightning_module
    strategy = trainer.strategy
    checkpoint: dict[str, Any] = {
        "epoch": trainer.current_epoch,
        "global_step": trainer.global_step,
        "pytorch-lightning_version": LIGHTNING_COMPAT_VERSION,
        "state_dict": clean_state_dict(strategy.lightning_module_state_dict()),
    }
    progress = _progress_for_checkpoint(trainer, run)
    checkpoint["loops"] = lightning_loops(progress, model.automatic_optimization)
    checkpoint["loops"]["fit_loop"].update(runtime_progress=progress, runtime_resume=_resume_for_checkpoint(trainer, run))
    if not weights_only:
        states = {}
        for cb in trainer.callbacks:  # each state_dict asked for once
            state = cb.state_dict()
            if state:
                states[cb.state_key] = state
        checkpoint["callbacks"] = states
        checkpoint["optimizer_states"] = [strategy.optimizer_state(opt) for opt in trainer.optimizers]
        checkpoint["lr_schedulers"] = [cfg.scheduler.state_dict() for cfg in trainer.lr_scheduler_configs]
        precision_state = trainer.precision_plugin.state_dict()
        if precision_state:
            checkpoint[type(trainer.precision_plugin).__qualname__] = precision_state
    if getattr(model, "_hparams", None):
        checkpoint["hparams_name"] = getattr(model, "_hparams_name", "kwargs")
        checkpoint["hyper_parameters"] = dict(model.hparams)  # as Lightning: the values now, edits included
    dm = trainer.datamodule
    if dm is not None:
        if getattr(dm, "_hparams", None):
            checkpoint["datamodule_hparams_name"] = getattr(dm, "_hparams_name", "kwargs")
            checkpoint["datamodule_hyper_parameters"] = dict(dm.hparams)
        dm_state = dm.state_dict()
        if dm_state:
            checkpoint[type(dm).__qualname__] = dm_state
    if not weights_only:
        trainer._hooks.callbacks("on_save_checkpoint", checkpoint)
    if dm is not None and overrides("on_save_checkpoint", dm, LightningDataModule):
        dm.on_save_checkpoint(checkpoint)
    trainer._hooks.module("on_save_checkpoint", checkpoint)
    return checkpoint


def _progress_for_checkpoint(trainer, run) -> dict[str, Any]:
    progress = asdict(trainer._progress)
    if run.pending_step:  # saved from on_train_batch_end: this batch's step is as good as done
        progress["batches_that_stepped"] += 1
    return progress


def _resume_for_checkpoint(trainer, run) -> dict[str, Any]:
    state: dict[str, Any] = {"rng": rng_to_checkpoint(collect_rng_states())}
    if run.epoch_start is not None and trainer.state.fn == TrainerFn.FITTING:
        state["epoch_start"] = run.epoch_start.to_checkpoint()
        loader = trainer.train_dataloader
        if callable(getattr(loader, "state_dict", None)):
            state["loader"] = loader.state_dict()
    return state


def resolve_ckpt_path(trainer, ckpt_path: Any) -> str:
    """A file path from ``ckpt_path``: a path, "last" / "best" of the trainer's checkpoint callback, or "hpc"
    (the newest preemption file in ``default_root_dir``)."""
    if ckpt_path == "hpc":
        from runtime.trainer.preemption import asked_checkpoint

        return asked_checkpoint(trainer)
    if ckpt_path in ("best", "last"):
        cb = trainer.checkpoint_callback
        path = getattr(cb, f"{ckpt_path}_model_path", "") if cb is not None else ""
        if not path:
            if ckpt_path == "last" and cb is not None and getattr(cb, "dirpath", None):
                candidate = os.path.join(cb.dirpath, "last.ckpt")
                if os.path.exists(candidate):
                    return candidate
            raise MisconfigurationException(
                f'ckpt_path="{ckpt_path}" but no {ckpt_path} checkpoint is known; pass the path of a .ckpt file.'
            )
        rank_zero_info(f'ckpt_path="{ckpt_path}": restoring {path}')
        return path
    return os.fspath(ckpt_path)


def restore(trainer, run, ckpt_path: str) -> dict[str, Any]:
    """Load ``ckpt_path`` into the module and datamodule; for fit also callbacks, optimizers and progress."""
    checkpoint = restore_modules(trainer, run, ckpt_path)
    if run.fn == TrainerFn.FITTING:
        restore_training_state(trainer, run, checkpoint, ckpt_path)
    return checkpoint


def restore_modules(trainer, run, ckpt_path: str) -> dict[str, Any]:
    """Lightning's first half of a restore, before ``configure_optimizers``: the module's weights (after its
    ``on_load_checkpoint``), the datamodule's state and, for fit, the callbacks' (``on_load_checkpoint``,
    then ``load_state_dict``). Returns the checkpoint for ``restore_training_state``."""
    checkpoint = trainer.strategy.load_checkpoint(ckpt_path, weights_only=run.weights_only)
    model = trainer.lightning_module
    trainer._hooks.module("on_load_checkpoint", checkpoint)
    load_weights(model, checkpoint, ckpt_path, strict=True, load=trainer.strategy.load_model_state_dict)
    dm = trainer.datamodule
    if dm is not None:
        state = checkpoint.get(type(dm).__qualname__)
        if state:
            dm.load_state_dict(state)
        if overrides("on_load_checkpoint", dm, LightningDataModule):
            dm.on_load_checkpoint(checkpoint)
    if run.fn != TrainerFn.FITTING:
        return checkpoint
    if "optimizer_states" not in checkpoint:
        raise MisconfigurationException(
            f"Checkpoint {ckpt_path} holds only the weights (saved with save_weights_only=True, or by hand), so fit "
            "cannot resume from it: the optimizer, scheduler and loop state are not in it. To train on from these "
            "weights, load them into the model (`Model.load_from_checkpoint(path)`) and call fit without ckpt_path."
        )
    trainer._hooks.callbacks("on_load_checkpoint", checkpoint)
    states = checkpoint.get("callbacks") or {}
    missing = states.keys() - {cb.state_key for cb in trainer.callbacks}
    if missing:  # their state stays in the file, unused: the run would not continue as it was saved
        rank_zero_warn(
            "Be aware that when using `ckpt_path`, callbacks used to create the checkpoint need to be provided during "
            f"`Trainer` instantiation. Please add the following callbacks: {sorted(missing, key=str)}."
        )
    for cb in trainer.callbacks:
        state = states.get(cb.state_key)
        if state:
            cb.load_state_dict(state)
    return checkpoint


def restore_training_state(trainer, run, checkpoint: dict[str, Any], ckpt_path: str) -> None:
    """The second half, after ``on_fit_start`` (where a finetuning callback puts back the parameter groups it
    had added): optimizer and scheduler states, the precision plugin's, and the progress of the loops."""
    check_optimizer_states(ckpt_path, checkpoint["optimizer_states"], trainer.optimizers)
    for opt, state in zip(trainer.optimizers, checkpoint["optimizer_states"]):
        trainer.strategy.load_optimizer_state_dict(opt, state)
    for cfg, state in zip(trainer.lr_scheduler_configs, checkpoint.get("lr_schedulers", [])):
        cfg.scheduler.load_state_dict(state)
    trainer.precision_plugin.load_state_dict(checkpoint.get(type(trainer.precision_plugin).__qualname__, {}))
    fit_state = checkpoint.get("loops", {}).get("fit_loop", {})
    progress = fit_state.get("runtime_progress")
    run.resume = fit_state.get("runtime_resume")
    trainer._progress = Progress(**(progress if progress is not None else progress_from_lightning(checkpoint)))
    max_epochs = trainer.flags.max_epochs
    if max_epochs not in (-1, None) and trainer._progress.current_epoch > max_epochs:
        raise MisconfigurationException(
            f"You restored a checkpoint with current_epoch={trainer._progress.current_epoch}, but you have set "
            f"Trainer(max_epochs={max_epochs}). Raise max_epochs above the checkpoint's epoch to train on from it."
        )
    if trainer._progress.epoch_done:  # saved at the end of an epoch: continue with the next one
        trainer._progress.current_epoch += 1
        trainer._progress.epoch_batch_idx = 0
        trainer._progress.epoch_done = False
    run.restored_mid_fit = True
