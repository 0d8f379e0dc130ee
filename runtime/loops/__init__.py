"""Lightning's loop objects as views of the runtime's loops: ``trainer.fit_loop``, ``validate_loop``,
``test_loop``, ``predict_loop``. The loops themselves are plain functions (``runtime/trainer/loops.py``);
these classes only expose their progress with Lightning's attribute names."""
from runtime.loops.evaluation_loop import _EvaluationLoop
from runtime.loops.fit_loop import _FitLoop
from runtime.loops.loop import _Loop
from runtime.loops.prediction_loop import _PredictionLoop
from runtime.loops.training_epoch_loop import _TrainingEpochLoop

__all__ = ["_EvaluationLoop", "_FitLoop", "_Loop", "_PredictionLoop", "_TrainingEpochLoop"]
