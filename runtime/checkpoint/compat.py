"""Lightning's loop-progress records, written next to ours so Lightning can resume from our
checkpoints, and read back so we can resume from Lightning's.

Lightning counts each epoch and batch as ready / started / processed / completed; the runtime keeps
one small ``Progress`` record (see ``runtime.trainer.trainer.Progress``). These two functions are
the whole translation.
"""
from typing import Any


def _counts(n: int, keys: tuple[str, ...] = ("ready", "started", "processed", "completed")) -> dict[str, int]:
    return {k: n for k in keys}


def lightning_loops(progress: dict[str, Any], automatic: bool) -> dict[str, Any]:
    """The ``loops`` entry Lightning 2.x writes, derived from the runtime's progress record."""
    epoch, done, in_epoch = progress["current_epoch"], progress["epoch_done"], progress["epoch_batch_idx"]
    started = epoch + 1 if (done or in_epoch) else epoch
    epoch_progress = {"ready": started, "started": started, "processed": epoch + 1 if done else epoch, "completed": epoch}
    steps = progress["optimizer_steps"]
    step_counts = {"total": _counts(steps, ("ready", "completed")), "current": _counts(min(steps, in_epoch), ("ready", "completed"))}
    none = {"total": _counts(0, ("ready", "completed")), "current": _counts(0, ("ready", "completed"))}
    empty_batches = {"total": _counts(0), "current": _counts(0), "is_last_batch": False}
    return {
        "fit_loop": {
            "state_dict": {},
            "epoch_loop.state_dict": {"_batches_that_stepped": progress["batches_that_stepped"]},
            "epoch_loop.batch_progress": {
                "total": _counts(progress["total_batch_idx"]), "current": _counts(in_epoch), "is_last_batch": done,
            },
            "epoch_loop.scheduler_progress": none,
            "epoch_loop.automatic_optimization.state_dict": {},
            "epoch_loop.automatic_optimization.optim_progress": {
                "optimizer": {
                    "step": step_counts if automatic else none,
                    "zero_grad": {
                        "total": _counts(steps if automatic else 0, ("ready", "started", "completed")),
                        "current": _counts(min(steps, in_epoch) if automatic else 0, ("ready", "started", "completed")),
                    },
                }
            },
            "epoch_loop.manual_optimization.state_dict": {},
            "epoch_loop.manual_optimization.optim_step_progress": none if automatic else step_counts,
            "epoch_loop.val_loop.state_dict": {},
            "epoch_loop.val_loop.batch_progress": empty_batches,
            "epoch_progress": {"total": dict(epoch_progress), "current": dict(epoch_progress)},
        },
        "validate_loop": {"state_dict": {}, "batch_progress": empty_batches},
        "test_loop": {"state_dict": {}, "batch_progress": empty_batches},
        "predict_loop": {"state_dict": {}, "batch_progress": {"total": _counts(0), "current": _counts(0)}},
    }


def progress_from_lightning(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The runtime's progress record for a checkpoint Lightning wrote (or one with only epoch/global_step)."""
    fit = (checkpoint.get("loops") or {}).get("fit_loop") or {}
    steps = int(checkpoint.get("global_step", 0))
    if "epoch_progress" not in fit:  # no loop state: continue after the epoch the file records
        return {"current_epoch": int(checkpoint.get("epoch", 0)) + 1, "optimizer_steps": steps}
    epoch = fit["epoch_progress"]["current"]
    batches = fit.get("epoch_loop.batch_progress", {})
    in_epoch = epoch["started"] > epoch["completed"]
    return {
        "current_epoch": int(epoch["completed"]),
        "epoch_done": epoch["processed"] > epoch["completed"],
        "epoch_batch_idx": int(batches.get("current", {}).get("processed", 0)) if in_epoch else 0,
        "total_batch_idx": int(batches.get("total", {}).get("processed", 0)),
        "batches_that_stepped": int(fit.get("epoch_loop.state_dict", {}).get("_batches_that_stepped", steps)),
        "optimizer_steps": steps,
    }
