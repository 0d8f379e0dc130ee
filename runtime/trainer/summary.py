"""The line at the end of fit: why training stopped, and where its logs and best checkpoint are.

``Trainer.fit stopped: max_epochs=3 reached (epoch 3, step 30). Logs: lightning_logs/version_0; best
checkpoint: lightning_logs/version_0/checkpoints/epoch=2-step=30.ckpt``
"""
import os
import signal
import time
from typing import Any

from runtime.utilities.rank_zero import rank_zero_info


def report_fit_end(trainer: Any, run: Any, exc: BaseException | None) -> None:
    """Say (on rank zero) why fit ended; a crash says nothing here, its traceback does."""
    reason = stop_reason(trainer, run, exc)
    if reason is None or not trainer.is_global_zero:
        return
    p = trainer._progress
    where = [f"Logs: {_rel(trainer.log_dir)}"] if trainer.loggers else []
    ckpt = trainer.checkpoint_callback
    best = getattr(ckpt, "best_model_path", "") if ckpt is not None else ""
    if best:
        where.append(f"best checkpoint: {_rel(best)}")
    elif ckpt is not None and getattr(ckpt, "last_model_path", ""):
        where.append(f"last checkpoint: {_rel(ckpt.last_model_path)}")
    tail = f" {'; '.join(where)}" if where else ""
    rank_zero_info(f"`Trainer.fit` stopped: {reason} (epoch {p.current_epoch}, step {trainer.global_step}).{tail}")


def stop_reason(trainer: Any, run: Any, exc: BaseException | None) -> str | None:
    """Why fit ended, in a few words, or None when it failed with an error."""
    if exc is not None:
        if getattr(run, "received_signal", None):
            return f"signal {_signal_name(run.received_signal)} received, a checkpoint to resume from was saved"
        if isinstance(exc, KeyboardInterrupt):
            return "interrupted (Ctrl+C)"
        return None
    flags, p = trainer.flags, trainer._progress
    if getattr(run, "num_training_batches", None) == 0:
        return "no training batches"
    if flags.fast_dev_run:
        return f"fast_dev_run={flags.fast_dev_run} ran its batches"
    if flags.max_steps != -1 and p.optimizer_steps >= flags.max_steps:
        return f"max_steps={flags.max_steps} reached"
    if trainer.should_stop:
        return _who_stopped(trainer, run)
    if flags.max_epochs not in (None, -1) and p.current_epoch >= flags.max_epochs:
        return f"max_epochs={flags.max_epochs} reached"
    return "training ended"


def _who_stopped(trainer: Any, run: Any) -> str:
    from runtime.callbacks import EarlyStopping, Timer
    from runtime.callbacks.early_stopping import EarlyStoppingReason

    for cb in trainer.callbacks:
        if isinstance(cb, EarlyStopping) and cb.stopping_reason is not EarlyStoppingReason.NOT_STOPPED:
            message = (cb.stopping_reason_message or cb.stopping_reason.value).replace(" Signaling Trainer to stop.", "")
            return f"early stopping: {message.rstrip('.')}"
        if isinstance(cb, Timer) and cb.time_remaining() is not None and cb.time_remaining() <= 0:
            return "time limit reached (Timer)"
    max_time = trainer.flags.max_time
    if max_time is not None and time.monotonic() - run.start_time >= max_time:
        return f"time limit reached (max_time={max_time:.0f}s)"
    return "trainer.should_stop was set"


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _rel(path: str) -> str:
    """A path relative to the current folder when it is inside it (shorter to read), absolute otherwise."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel
