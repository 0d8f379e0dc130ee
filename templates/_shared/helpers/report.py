"""What a run leaves behind, said at its end: the best value of the watched metric, the pictures, TensorBoard."""

import os
from pathlib import Path

import runtime as pl


class RunSummary(pl.Callback):
    """Track the best ``monitor`` value over the validations of a fit; print a short summary when it ends.

    Args:
        monitor: the logged metric to watch (e.g. ``val_acc``).
        mode: ``max`` when higher is better, ``min`` when lower is.
        pictures: the folder, under the run's log folder, where the module saves its pictures.
    """

    def __init__(self, monitor: str, mode: str = "min", pictures: str = ""):
        self.monitor, self.mode, self.pictures = monitor, mode, pictures
        self.best: float | None = None
        self.best_epoch: int | None = None

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        if self.best is None or (
            value > self.best if self.mode == "max" else value < self.best
        ):
            self.best, self.best_epoch = value, trainer.current_epoch

    def lines(self, trainer) -> list[str]:
        """The summary, one line per fact (also used by the tests)."""
        run_dir = Path(trainer.log_dir)
        out = []
        if self.best is not None:
            out.append(
                f"best {self.monitor}: {self.best:.4g} (epoch {self.best_epoch})"
            )
        if self.pictures and (run_dir / self.pictures).is_dir():
            out.append(f"{self.pictures}: {_short(run_dir / self.pictures)}")
        if any(
            hasattr(getattr(logger, "experiment", None), "add_image")
            for logger in trainer.loggers
        ):
            out.append(
                f"open TensorBoard: tensorboard --logdir {_short(run_dir.parent)}"
            )
        return out

    def on_fit_end(self, trainer, pl_module):
        if trainer.is_global_zero and not trainer.sanity_checking:
            for line in self.lines(trainer):
                print(line, flush=True)


def _short(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (what a user would type)."""
    try:
        return (
            os.path.relpath(path)
            if Path(path).resolve().is_relative_to(Path.cwd())
            else str(path)
        )
    except ValueError:
        return str(path)
