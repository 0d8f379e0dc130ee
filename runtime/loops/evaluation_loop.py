"""``trainer.validate_loop`` / ``test_loop`` / ``fit_loop.epoch_loop.val_loop``: views of evaluation."""
from typing import Any

from runtime.loops.loop import _Loop
from runtime.loops.progress import _BatchProgress, _tracker
from runtime.utilities.imports import _RICH_AVAILABLE
from runtime.utilities.results_table import print_results_table

__all__ = ["_EvaluationLoop"]


class _EvaluationLoop(_Loop):
    """``kind``: "val" or "test"."""

    def __init__(self, trainer: Any, kind: str, verbose: bool = True, inference_mode: bool = True) -> None:
        super().__init__(trainer)
        self.kind = kind
        self.verbose = verbose
        self.inference_mode = inference_mode

    @property
    def dataloaders(self) -> Any:
        return self.trainer.val_dataloaders if self.kind == "val" else self.trainer.test_dataloaders

    @property
    def max_batches(self) -> list:
        """Batches per dataloader this pass runs."""
        return self.trainer.num_val_batches if self.kind == "val" else self.trainer.num_test_batches

    @property
    def _max_batches(self) -> list:
        return self.max_batches

    @_max_batches.setter
    def _max_batches(self, value: list) -> None:
        # the run's batch counts, which the trainer (``num_val_batches``) and the callbacks read
        setattr(self.trainer._run, "num_val_batches" if self.kind == "val" else "num_test_batches", list(value))

    @property
    def batch_progress(self) -> _BatchProgress:
        """Batches run: ``current`` in the last (or running) pass; ``total`` over this call, or inside fit over this
        training epoch, as Lightning counts them (sanity check left out)."""
        counts = self.trainer._run.eval_counts.get("validate" if self.kind == "val" else "test")
        if counts is None:
            return _BatchProgress(total=_tracker(0, 0), current=_tracker(0, 0))
        current = sum(counts["seen"])
        total = counts["done"] + (0 if counts["closed"] else current)
        return _BatchProgress(total=_tracker(total, total), current=_tracker(current, current))

    def setup_data(self) -> None:
        """Build this stage's dataloaders now (normally done when the pass starts)."""
        from runtime.trainer import data as data_utils

        if self.kind == "val":
            data_utils.val_loaders(self.trainer, self.trainer._run)
        else:
            data_utils.eval_loaders(self.trainer, self.trainer._run, "test")

    @staticmethod
    def _print_results(results: list[dict[str, Any]], stage: str) -> None:
        """The table ``validate`` / ``test`` print (``verbose=True``): drawn with rich when it is installed."""
        print_results_table(results, stage, use_rich=bool(_RICH_AVAILABLE))
