"""EarlyStopping in real fits: patience, thresholds, strictness, where it runs, and its checkpoint state."""
import math

import pytest
import torch

from runtime.callbacks import EarlyStopping
from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class ScriptedModel(BoringModel):
    """Logs `val_loss` (in validation) and `train_metric` (at train epoch end) from a list, one value per epoch."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def train_dataloader(self):
        return random_loader(4, 2)

    def val_dataloader(self):
        return random_loader(4, 2)

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", torch.tensor(float(self.values[self.current_epoch])))

    def on_train_epoch_end(self):
        self.log("train_metric", torch.tensor(float(self.values[self.current_epoch])))


def fit(tmp_path, model, callback, **kwargs):
    trainer = make_trainer(tmp_path, max_epochs=len(model.values), callbacks=[callback], num_sanity_val_steps=0, **kwargs)
    trainer.fit(model)
    return trainer


def test_stops_after_patience_without_improvement(tmp_path):
    es = EarlyStopping(monitor="val_loss", patience=2)
    trainer = fit(tmp_path, ScriptedModel([1.0, 0.5, 0.6, 0.7, 0.4, 0.3]), es)
    assert trainer.should_stop
    assert es.stopped_epoch == 3 and trainer.current_epoch == 4
    assert es.wait_count == 2 and es.best_score.item() == pytest.approx(0.5)


def test_runs_every_epoch_while_improving(tmp_path):
    es = EarlyStopping(monitor="val_loss", patience=1)
    trainer = fit(tmp_path, ScriptedModel([5.0, 4.0, 3.0, 2.0]), es)
    assert trainer.current_epoch == 4 and not trainer.should_stop and es.stopped_epoch == 0


def test_min_delta_and_max_mode(tmp_path):
    es = EarlyStopping(monitor="val_loss", mode="max", min_delta=0.5, patience=1)
    trainer = fit(tmp_path, ScriptedModel([1.0, 1.2, 3.0, 3.1]), es)  # 1.2 is not 0.5 better than 1.0
    assert es.stopped_epoch == 1 and trainer.current_epoch == 2


@pytest.mark.parametrize(
    "kwargs, values, stopped",
    [
        (dict(stopping_threshold=0.3), [1.0, 0.5, 0.2, 0.1], 2),
        (dict(divergence_threshold=5.0), [1.0, 2.0, 6.0, 0.1], 2),
        (dict(), [1.0, math.nan, 0.1, 0.1], 1),
    ],
    ids=["stopping_threshold", "divergence_threshold", "check_finite"],
)
def test_thresholds_and_non_finite_stop_at_once(tmp_path, kwargs, values, stopped):
    es = EarlyStopping(monitor="val_loss", patience=100, **kwargs)
    trainer = fit(tmp_path, ScriptedModel(values), es)
    assert es.stopped_epoch == stopped and trainer.current_epoch == stopped + 1


def test_strict_missing_metric_names_the_logged_ones(tmp_path):
    with pytest.raises(RuntimeError, match=r"`val_los` which is not available.*`val_loss`"):
        fit(tmp_path, ScriptedModel([1.0, 1.0]), EarlyStopping(monitor="val_los"))
    trainer = fit(tmp_path, ScriptedModel([1.0, 1.0, 1.0]), EarlyStopping(monitor="nothing", strict=False, patience=1))
    assert trainer.current_epoch == 3


def test_without_validation_it_monitors_train_epoch_metrics(tmp_path):
    model = ScriptedModel([1.0, 2.0, 3.0, 4.0, 5.0])
    trainer = make_trainer(tmp_path, max_epochs=5, callbacks=[EarlyStopping(monitor="train_metric", patience=2)], limit_val_batches=0)
    trainer.fit(model)
    assert trainer.current_epoch == 3


def test_checks_after_validation_when_it_runs_mid_epoch(tmp_path):
    seen = []

    class Model(ScriptedModel):
        def train_dataloader(self):
            return random_loader(8, 2)  # 4 batches, validation every 2

        def validation_step(self, batch, batch_idx):
            seen.append(self.global_step)
            self.log("val_loss", torch.tensor(1.0))

    es = EarlyStopping(monitor="val_loss", patience=2)
    trainer = make_trainer(tmp_path, max_epochs=5, callbacks=[es], val_check_interval=2, num_sanity_val_steps=0)
    trainer.fit(Model([0.0] * 5))
    assert es._check_on_train_epoch_end is False
    # three validations (best, wait 1, wait 2): stopped in the second epoch after its first validation
    assert es.stopped_epoch == 1 and trainer.global_step < 8


def test_sanity_check_does_not_count(tmp_path):
    es = EarlyStopping(monitor="val_loss", patience=1, check_on_train_epoch_end=False)
    trainer = make_trainer(tmp_path, max_epochs=2, callbacks=[es], num_sanity_val_steps=2)
    trainer.fit(ScriptedModel([1.0, 0.5]))
    assert es.wait_count == 0 and trainer.current_epoch == 2


def test_state_is_saved_in_checkpoints_and_restored(tmp_path):
    es = EarlyStopping(monitor="val_loss", patience=5)
    trainer = fit(tmp_path, ScriptedModel([1.0, 0.5, 0.7]), es)
    path = tmp_path / "es.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=False)
    state = ckpt["callbacks"][es.state_key]
    assert es.state_key == "EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}"
    assert state["wait_count"] == 1 and state["patience"] == 5 and state["best_score"].item() == pytest.approx(0.5)

    fresh = EarlyStopping(monitor="val_loss", patience=5)
    fresh.load_state_dict(state)
    assert fresh.wait_count == 1 and fresh.best_score.item() == pytest.approx(0.5)


def test_bad_arguments():
    with pytest.raises(MisconfigurationException, match="did you mean 'min'|Did you mean 'min'"):
        EarlyStopping(monitor="x", mode="mni")
    with pytest.raises(MisconfigurationException, match="patience"):
        EarlyStopping(monitor="x", patience=-1)


def test_found_by_the_trainer(tmp_path):
    es = EarlyStopping(monitor="val_loss")
    trainer = make_trainer(tmp_path, callbacks=[es])
    assert trainer.early_stopping_callback is es


class PatientStopping(EarlyStopping):
    """A user's subclass: it must behave as EarlyStopping does (found by the trainer, run after the module)."""


def test_a_subclass_is_early_stopping_to_the_trainer(tmp_path):
    es = PatientStopping(monitor="train_metric", patience=2)
    trainer = make_trainer(tmp_path, max_epochs=5, callbacks=[es], limit_val_batches=0)
    assert trainer.early_stopping_callback is es
    # it reads what the module logs in on_train_epoch_end: run as an ordinary callback (before the module) it
    # would not find train_metric at the first epoch's end and, strict, raise
    trainer.fit(ScriptedModel([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert es.stopped_epoch == 2 and trainer.current_epoch == 3
