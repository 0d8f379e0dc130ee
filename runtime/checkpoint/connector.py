"""Between a running Trainer and a checkpoint file: what goes in, how it comes back, and preemption.

``dump_checkpoint`` builds the dict (Lightning's keys plus the runtime's exact-resume state),
``restore`` puts a file back into the trainer, module, datamodule and callbacks, and the preemption
helpers turn SIGTERM / SIGUSR1 into a saved ``hpc_ckpt_N.ckpt`` that the next start resumes from.
"""
import os
import re
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, Generator

import torch

from runtime.checkpoint.compat import lightning_loops, progress_from_lightning
from runtime.checkpoint.resume import rng_to_checkpoint
from runtime.core.datamodule import LightningDataModule
from runtime.trainer.call import is_overridden
from runtime.trainer.progress import Progress
from runtime.trainer.states import TrainerFn
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_info, rank_zero_warn
from runtime.utilities.seed import collect_rng_states

LIGHTNING_COMPAT_VERSION = "2.5.0"  # written as "pytorch-lightning_version" so Lightning reads our checkpoints


def dump_checkpoint(trainer, weights_only: bool = False) -> dict[str, Any]:
    """The checkpoint dict of the trainer's current state (only weights and progress when ``weights_only``)."""
    model = trainer.lightning_module
    strategy = trainer.strategy
    checkpoint: dict[str, Any] = {
        "epoch": trainer.current_epoch,
        "global_step": trainer.global_step,
        "pytorch-lightning_version": LIGHTNING_COMPAT_VERSION,
        "state_dict": clean_state_dict(strategy.lightning_module_state_dict()),
    }
    progress = _progress_for_checkpoint(trainer)
    checkpoint["loops"] = lightning_loops(progress, model.automatic_optimization)
    checkpoint["loops"]["fit_loop"].update(runtime_progress=progress, runtime_resume=_resume_for_checkpoint(trainer))
    if not weights_only:
        checkpoint["callbacks"] = {cb.state_key: cb.state_dict() for cb in trainer.callbacks if cb.state_dict()}
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
    if dm is not None and is_overridden("on_save_checkpoint", dm, LightningDataModule):
        dm.on_save_checkpoint(checkpoint)
    trainer._hooks.module("on_save_checkpoint", checkpoint)
    return checkpoint


def _progress_for_checkpoint(trainer) -> dict[str, Any]:
    progress = asdict(trainer._progress)
    if trainer._pending_step:  # saved from on_train_batch_end: this batch's step is as good as done
        progress["batches_that_stepped"] += 1
    return progress


def _resume_for_checkpoint(trainer) -> dict[str, Any]:
    state: dict[str, Any] = {"rng": rng_to_checkpoint(collect_rng_states())}
    if trainer._epoch_start is not None and trainer.state.fn == TrainerFn.FITTING:
        state["epoch_start"] = trainer._epoch_start.to_checkpoint()
        loader = trainer.train_dataloader
        if callable(getattr(loader, "state_dict", None)):
            state["loader"] = loader.state_dict()
    return state


def resolve_ckpt_path(trainer, ckpt_path: Any) -> str:
    """A file path from ``ckpt_path``: a path, or "last" / "best" of the trainer's checkpoint callback."""
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
        return path
    return os.fspath(ckpt_path)


def restore(trainer, ckpt_path: str, fn: TrainerFn, weights_only: bool | None) -> dict[str, Any]:
    """Load ``ckpt_path`` into the module and datamodule; for fit also callbacks, optimizers and progress."""
    checkpoint = trainer.strategy.load_checkpoint(ckpt_path, weights_only=weights_only)
    model = trainer.lightning_module
    trainer._hooks.module("on_load_checkpoint", checkpoint)
    load_weights(model, checkpoint, ckpt_path, strict=True, load=trainer.strategy.load_model_state_dict)
    dm = trainer.datamodule
    if dm is not None:
        state = checkpoint.get(type(dm).__qualname__)
        if state:
            dm.load_state_dict(state)
        if is_overridden("on_load_checkpoint", dm, LightningDataModule):
            dm.on_load_checkpoint(checkpoint)
    if fn != TrainerFn.FITTING:
        return checkpoint
    if "optimizer_states" not in checkpoint:
        raise MisconfigurationException(
            f"Checkpoint {ckpt_path} holds only the weights (saved with save_weights_only=True, or by hand), so fit "
            "cannot resume from it: the optimizer, scheduler and loop state are not in it. To train on from these "
            "weights, load them into the model (`Model.load_from_checkpoint(path)`) and call fit without ckpt_path."
        )
    for cb in trainer.callbacks:
        state = checkpoint.get("callbacks", {}).get(cb.state_key)
        if state:
            cb.load_state_dict(state)
    trainer._hooks.callbacks("on_load_checkpoint", checkpoint)
    for opt, state in zip(trainer.optimizers, checkpoint["optimizer_states"]):
        trainer.strategy.load_optimizer_state_dict(opt, state)
    for cfg, state in zip(trainer.lr_scheduler_configs, checkpoint.get("lr_schedulers", [])):
        cfg.scheduler.load_state_dict(state)
    trainer.precision_plugin.load_state_dict(checkpoint.get(type(trainer.precision_plugin).__qualname__, {}))
    fit_state = checkpoint.get("loops", {}).get("fit_loop", {})
    progress = fit_state.get("runtime_progress")
    trainer._resume = fit_state.get("runtime_resume")
    trainer._progress = Progress(**(progress if progress is not None else progress_from_lightning(checkpoint)))
    if trainer._progress.epoch_done:  # saved at the end of an epoch: continue with the next one
        trainer._progress.current_epoch += 1
        trainer._progress.epoch_batch_idx = 0
        trainer._progress.epoch_done = False
    trainer._restored_mid_fit = True
    return checkpoint


def load_weights(model: torch.nn.Module, checkpoint: dict[str, Any], path: Any, strict: bool = True,
                 load: Any = None) -> None:
    """``load_state_dict`` (or the strategy's ``load``) with an error naming the file and the model when they do not fit."""
    if "state_dict" not in checkpoint:
        raise KeyError(f"Checkpoint {path} has no 'state_dict': it is not a training checkpoint.")
    try:
        if load is None:
            model.load_state_dict(checkpoint["state_dict"], strict=strict)
        else:
            load(checkpoint["state_dict"], strict=strict)
    except RuntimeError as err:
        raise RuntimeError(
            f"Checkpoint {path} does not fit {type(model).__name__}: {err}\nWas it saved from another model, or "
            "with other hyperparameters? (`strict=False` in load_from_checkpoint loads the matching part.)"
        ) from None


def clean_state_dict(state: dict) -> dict:
    """Strip the ``_orig_mod.`` prefix torch.compile adds, so checkpoints load into an uncompiled model."""
    if not any("_orig_mod." in k for k in state):
        return state
    return type(state)((k.replace("_orig_mod.", ""), v) for k, v in state.items())


# ------------------------------------------------------------------------------------------ preemption
def hpc_checkpoints(folder: str) -> list[tuple[int, str]]:
    """``(N, path)`` of the ``hpc_ckpt_N.ckpt`` files in ``folder``, oldest first."""
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        m = re.fullmatch(r"hpc_ckpt_(\d+)\.ckpt", name)
        if m:
            found.append((int(m.group(1)), os.path.join(folder, name)))
    return sorted(found)


def preempted_checkpoint(trainer) -> str | None:
    """The newest ``hpc_ckpt_N.ckpt`` a preempted run left in ``default_root_dir``, to resume from."""
    found = hpc_checkpoints(trainer.default_root_dir)
    if not found:
        return None
    path = found[-1][1]
    rank_zero_info(f"Resuming from {path}, written when an earlier run of this job was stopped by a signal.")
    return path


def save_on_preemption(trainer, signum: int) -> None:
    """A stop signal arrived and the step is finished: save where we are, requeue under SLURM, exit 128 + signal.

    With several processes every rank comes here at the same step (see ``_PeerSignals``), so the save's
    collectives (a barrier, FSDP's gathers) meet."""
    found = hpc_checkpoints(trainer.default_root_dir)
    path = os.path.join(trainer.default_root_dir, f"hpc_ckpt_{found[-1][0] + 1 if found else 1}.ckpt")
    path = trainer.strategy.broadcast(path)  # one name, as rank zero sees the folder
    trainer.save_checkpoint(path)
    trainer.strategy.checkpoint_io.teardown()
    job = os.environ.get("SLURM_JOB_ID")
    if (trainer.is_global_zero and signum == getattr(signal, "SIGUSR1", None) and job
            and os.environ.get("SLURM_JOB_NAME") not in ("bash", "interactive")):
        import subprocess

        result = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
        if result.returncode == 0:
            rank_zero_info(f"SLURM job {job} requeued; the next start resumes from {path}.")
        else:
            rank_zero_warn(f"`scontrol requeue {job}` failed ({result.stderr.strip()}); resume by hand from {path}.")
    raise SystemExit(128 + signum)


def signal_to_act_on(trainer) -> int | None:
    """After each training step: the stop signal to save and exit for now, if any (the loop's one check)."""
    peers = trainer._peer_signals
    if peers is None:
        return trainer._received_signal
    return peers.exchange(trainer._received_signal)


class _PeerSignals:
    """Ranks receive a scheduler's signal at slightly different steps, yet must save at the same one.

    At agreed steps every rank adds the signal it has received to a small all-reduce (MAX) that runs in the
    background on a CPU (gloo) group; its result is read at the next agreed step, where all ranks act on it
    together. The same all-reduce carries rank zero's proposal for the gap to the exchange after that (about
    ``every_seconds`` of its steps), so the steps stay agreed without a collective on every step."""

    every_seconds = 0.5

    def __init__(self, strategy) -> None:
        import torch.distributed as dist

        group = getattr(strategy, "_signal_group", None)
        if group is None:  # created once, by every rank (a collective)
            group = strategy._signal_group = dist.new_group(backend="gloo")
        self.group = group
        self.is_zero = strategy.is_global_zero
        self.flag = torch.zeros(2, dtype=torch.int64)  # [signal, steps until the exchange after next]
        self.work = None
        self.countdown = 1  # steps until the next exchange
        self.gap = 1  # steps from the last exchange to the next
        self.since = time.monotonic()

    def exchange(self, received: int | None) -> int | None:
        import torch.distributed as dist

        self.countdown -= 1
        if self.countdown > 0:
            return None
        steps = self.gap  # since the last exchange
        if self.work is not None:  # the result of the last exchange: a signal to act on, and the next gap
            self.work.wait()
            self.work = None
            agreed, proposed = self.flag.tolist()
            if agreed:
                return agreed
            self.gap = max(1, proposed)
        self.countdown = self.gap
        proposal = 0
        if self.is_zero:  # the gap after the next one: about every_seconds of rank zero's recent steps
            now = time.monotonic()
            per_step = max((now - self.since) / steps, 1e-6)
            proposal = int(min(max(self.every_seconds / per_step, 1), 10_000))
            self.since = now
        self.flag[0], self.flag[1] = received or 0, proposal
        self.work = dist.all_reduce(self.flag, op=dist.ReduceOp.MAX, group=self.group, async_op=True)
        return None

    def close(self) -> None:
        if self.work is not None:
            self.work.wait()
            self.work = None


@contextmanager
def preemption_signals(trainer) -> Generator[None, None, None]:
    """While fitting, SIGTERM and SIGUSR1 (SLURM's warning) only raise a flag the loop checks after each step."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [signal.SIGTERM] + ([signal.SIGUSR1] if hasattr(signal, "SIGUSR1") else [])

    def handler(signum, frame):
        trainer._received_signal = signum

    previous = {sig: signal.signal(sig, handler) for sig in signals}
    trainer._received_signal = None
    trainer._peer_signals = _PeerSignals(trainer.strategy) if trainer.world_size > 1 else None
    try:
        yield
        if trainer._peer_signals is not None:
            trainer._peer_signals.close()
    finally:
        trainer._peer_signals = None
        for sig, prev in previous.items():
            signal.signal(sig, prev)


def elastic_checkpoint(trainer) -> str | None:
    """Under ``torchrun --max-restarts``, a restarted process resumes from the last checkpoint by itself."""
    from runtime.strategies.ddp import elastic_restart

    if not elastic_restart():
        return None
    cb = trainer.checkpoint_callback
    dirpath = getattr(cb, "dirpath", None) or (cb._resolve_ckpt_dir(trainer) if hasattr(cb, "_resolve_ckpt_dir") else None)
    candidate = os.path.join(dirpath, "last.ckpt") if dirpath else None
    if candidate and os.path.exists(candidate):
        rank_zero_info(f"torchrun restarted this run; resuming from {candidate}.")
        return candidate
    return None
