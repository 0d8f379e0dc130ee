"""``trainer.predict_loop``: a view of prediction."""
from typing import Any

from runtime.loops.loop import _Loop

__all__ = ["_PredictionLoop"]


class _PredictionLoop(_Loop):
    def __init__(self, trainer: Any, inference_mode: bool = True) -> None:
        super().__init__(trainer)
        self.inference_mode = inference_mode

    @property
    def dataloaders(self) -> Any:
        return self.trainer.predict_dataloaders

    @property
    def max_batches(self) -> list:
        return self.trainer.num_predict_batches

    @property
    def predictions(self) -> list:
        """What the last ``trainer.predict`` returned (a list per dataloader when there were several)."""
        return self.trainer._run.predictions if self.trainer._run.predictions is not None else []

    @property
    def epoch_batch_indices(self) -> list:
        """Dataset indices per dataloader, per batch, of this prediction run: kept for a prediction writer that
        writes at the end (empty lists, one per dataloader, when none does), as Lightning's loop keeps them."""
        from runtime.callbacks.prediction_writer import BasePredictionWriter

        for cb in self.trainer.callbacks:
            if isinstance(cb, BasePredictionWriter) and cb._on_epoch and cb._batch_indices:
                return cb._batch_indices
        if self.trainer.predicting:
            return [[] for _ in self.trainer.num_predict_batches]
        return []

    @property
    def return_predictions(self) -> bool:
        return self.trainer._run.return_predictions

    def setup_data(self) -> None:
        from runtime.trainer import data as data_utils

        data_utils.eval_loaders(self.trainer, self.trainer._run, "predict")
