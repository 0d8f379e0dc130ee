"""Lightning's views of a Trainer: its loop objects, connectors and result collections.

Each is a view over the trainer's own records (its progress, run state, data sourcing and checkpoint
dump), not a second source of truth; ``Trainer`` inherits them. Lightning's tests and user code read
them (``trainer.fit_loop.epoch_loop``, ``trainer._results``, ``trainer.progress_bar_metrics``).
"""
import torch

from runtime.loops import _EvaluationLoop, _FitLoop, _PredictionLoop
from runtime.trainer import checkpointing
from runtime.trainer import data as data_utils
from runtime.trainer.logging import Results
from runtime.trainer.states import RunningStage


class LightningViews:
    """Properties of Lightning's Trainer that expose its internals, mapped onto ours."""

    @property
    def progress_bar_metrics(self) -> dict[str, float]:
        """The values logged with ``prog_bar=True``, as numbers (read from the device now)."""
        return {k: v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v
                for k, v in self._progress_bar_metrics.items()}

    @property
    def _results(self) -> Results | None:
        """Where ``self.log`` records now: the results of the loop running (the training loop's while training)."""
        run = self._run
        if run.results is None and self.state.stage == RunningStage.TRAINING:
            return run.train_results
        return run.results

    # Lightning's loop objects, as views of this trainer's progress record (runtime.loops)
    @property
    def fit_loop(self):
        loop = self.__dict__.get("_fit_loop")  # one per trainer: what is set on it (or its epoch_loop) stays
        if loop is None:
            loop = self._fit_loop = _FitLoop(self)
        return loop

    @property
    def _data_connector(self):
        return data_utils.DataConnector(self)

    @property
    def _checkpoint_connector(self):
        return checkpointing.CheckpointConnector(self)

    @property
    def validate_loop(self):
        return _EvaluationLoop(self, "val")

    @property
    def test_loop(self):
        return _EvaluationLoop(self, "test")

    @property
    def predict_loop(self):
        return _PredictionLoop(self)
