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
    def return_predictions(self) -> bool:
        return self.trainer._run.return_predictions

    def setup_data(self) -> None:
        from runtime.trainer import data as data_utils

        data_utils.eval_loaders(self.trainer, self.trainer._run, "predict")
