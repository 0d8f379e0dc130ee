"""Trainer flags and defaults, each checked with a real (tiny) training run."""
import glob
import os

import pytest
import torch

import runtime as pl
from runtime.demos.boring_classes import BoringModel
from runtime.trainer.states import RunningStage, TrainerFn
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import RecordingLogger, make_trainer, random_loader


class CountingModel(BoringModel):
    """Counts steps per stage and remembers what it saw."""

    def __init__(self):
        super().__init__()
        self.train_batches = []  # (epoch, batch_idx)
        self.val_calls = 0
        self.sanity_calls = 0
        self.val_runs = 0
        self.train_dl_calls = 0
        self.val_dl_calls = 0
        self.seen = []  # first element of each train batch

    def training_step(self, batch, batch_idx):
        self.train_batches.append((self.current_epoch, batch_idx))
        self.seen.append(batch[0, 0].item())
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch, batch_idx):
        if self.trainer.sanity_checking:
            self.sanity_calls += 1
        else:
            self.val_calls += 1
        return super().validation_step(batch, batch_idx)

    def on_validation_epoch_end(self):
        if not self.trainer.sanity_checking:
            self.val_runs += 1

    def train_dataloader(self):
        self.train_dl_calls += 1
        return random_loader(length=16, batch_size=2)  # 8 batches

    def val_dataloader(self):
        self.val_dl_calls += 1
        return random_loader(length=16, batch_size=2)


# ------------------------------------------------------------------ epochs and steps
def test_max_epochs(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, max_epochs=3, limit_train_batches=2, limit_val_batches=1)
    trainer.fit(model)
    assert trainer.current_epoch == 3
    assert trainer.global_step == 6
    assert sorted({e for e, _ in model.train_batches}) == [0, 1, 2]
    assert trainer.state.finished


def test_default_max_epochs_is_1000_when_nothing_bounds_training(tmp_path):
    trainer = pl.Trainer(default_root_dir=str(tmp_path), logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    assert trainer.max_epochs == 1000
    assert trainer.max_steps == -1
    assert trainer.min_epochs in (0, None)
    assert trainer.log_every_n_steps == 50
    assert trainer.num_sanity_val_steps == 2


def test_max_steps_without_max_epochs_means_unbounded_epochs(tmp_path):
    trainer = make_trainer(tmp_path, max_epochs=None, max_steps=5, limit_train_batches=2, limit_val_batches=0)
    assert trainer.max_epochs == -1
    trainer.fit(BoringModel())
    assert trainer.global_step == 5


def test_max_epochs_minus_one_with_max_steps(tmp_path):
    trainer = make_trainer(tmp_path, max_epochs=-1, max_steps=7, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(BoringModel())
    assert trainer.global_step == 7


def test_max_steps_stops_before_max_epochs(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, max_epochs=5, max_steps=3, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.global_step == 3
    assert model.train_batches == [(0, 0), (0, 1), (1, 0)]


class StopAt(pl.Callback):
    def __init__(self, batch_idx=0):
        self.batch_idx = batch_idx

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx == self.batch_idx:
            trainer.should_stop = True


def test_should_stop_from_a_callback_stops_training(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, max_epochs=5, limit_train_batches=4, limit_val_batches=0, callbacks=[StopAt(1)])
    trainer.fit(model)
    assert trainer.should_stop is True
    assert trainer.global_step == 2
    assert model.train_batches == [(0, 0), (0, 1)]
    assert trainer.current_epoch == 1


def test_min_epochs_overrides_should_stop(tmp_path):
    model = CountingModel()
    trainer = make_trainer(
        tmp_path, min_epochs=3, max_epochs=10, limit_train_batches=4, limit_val_batches=0, callbacks=[StopAt(0)]
    )
    trainer.fit(model)
    # the stop request is honoured only once 3 epochs are done; they run in full
    assert trainer.global_step == 12
    assert trainer.current_epoch == 3
    assert sorted({e for e, _ in model.train_batches}) == [0, 1, 2]


def test_min_steps_overrides_should_stop(tmp_path):
    trainer = make_trainer(
        tmp_path, min_steps=5, max_epochs=10, limit_train_batches=2, limit_val_batches=0, callbacks=[StopAt(0)]
    )
    trainer.fit(BoringModel())
    assert trainer.global_step == 5


class FakeClock:
    """Stands in for ``time`` in the trainer and the loops: it moves only when a training step says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.parametrize("max_time, steps", [({"seconds": 0.3}, 3), ("00:00:00:01", 8)])
def test_max_time(tmp_path, monkeypatch, max_time, steps):
    clock = FakeClock()
    monkeypatch.setattr("runtime.trainer.trainer.time", clock)
    monkeypatch.setattr("runtime.trainer.loops.time", clock)

    class TickingModel(BoringModel):  # each step takes 0.125 s on the fake clock
        def training_step(self, batch, batch_idx):
            clock.now += 0.125
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, max_epochs=None, max_time=max_time, limit_train_batches=2, limit_val_batches=0)
    assert trainer.max_epochs == -1  # bounded by time, not epochs
    trainer.fit(TickingModel())
    # stopped after the step that spent the time (0.375 s >= 0.3 s; 1.0 s), mid-epoch or at an epoch's end
    assert trainer.global_step == steps and trainer.should_stop


# ------------------------------------------------------------------ limits
def test_limit_train_batches_int_and_float(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(model)
    assert len(model.train_batches) == 3
    assert trainer.num_training_batches == 3

    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=0.25, limit_val_batches=0)
    trainer.fit(model)
    assert len(model.train_batches) == 2  # 25% of 8
    assert trainer.num_training_batches == 2


def test_limit_val_batches_int_and_float(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=3, num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_calls == 3

    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0.5, num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_calls == 4


def test_limit_val_batches_zero_disables_validation(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(model)
    assert model.val_calls == 0 and model.sanity_calls == 0


def test_limit_test_and_predict_batches(tmp_path):
    model = BoringModel()
    trainer = make_trainer(tmp_path, limit_test_batches=3, limit_predict_batches=5)
    trainer.test(model, random_loader(length=20, batch_size=2))
    preds = trainer.predict(model, random_loader(length=20, batch_size=2))
    assert len(preds) == 5


# ------------------------------------------------------------------ validation scheduling
def test_val_check_interval_float(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=4, limit_val_batches=1, val_check_interval=0.5,
                           num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_runs == 2


def test_val_check_interval_int_within_epoch(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=4, limit_val_batches=1, val_check_interval=2,
                           num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_runs == 2


def test_val_check_interval_int_across_epochs(tmp_path):
    class Model(CountingModel):
        def on_validation_epoch_end(self):
            super().on_validation_epoch_end()
            self.val_at = getattr(self, "val_at", []) + [self.trainer.global_step]

    model = Model()
    trainer = make_trainer(tmp_path, max_epochs=3, limit_train_batches=4, limit_val_batches=1, val_check_interval=3,
                           check_val_every_n_epoch=None, num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_at == [3, 6, 9, 12]


def test_check_val_every_n_epoch(tmp_path):
    class Model(CountingModel):
        def on_validation_epoch_end(self):
            super().on_validation_epoch_end()
            self.val_epochs = getattr(self, "val_epochs", []) + [self.current_epoch]

    model = Model()
    trainer = make_trainer(tmp_path, max_epochs=4, limit_train_batches=1, limit_val_batches=1,
                           check_val_every_n_epoch=2, num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_epochs == [1, 3]


@pytest.mark.parametrize(("num", "expected"), [(0, 0), (2, 2), (-1, 5)])
def test_num_sanity_val_steps(tmp_path, num, expected):
    model = CountingModel()
    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=5, num_sanity_val_steps=num)
    trainer.fit(model)
    assert model.sanity_calls == expected
    assert model.val_calls == 5


def test_sanity_checking_flag_and_stage(tmp_path):
    seen = {}

    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            key = "sanity" if self.trainer.sanity_checking else "val"
            seen[key] = (self.trainer.state.fn, self.trainer.state.stage)
            return super().validation_step(batch, batch_idx)

        def training_step(self, batch, batch_idx):
            seen["train"] = (self.trainer.state.fn, self.trainer.state.stage, self.trainer.sanity_checking)
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=1)
    trainer.fit(Model())
    assert seen["sanity"] == (TrainerFn.FITTING, RunningStage.SANITY_CHECKING)
    assert seen["val"] == (TrainerFn.FITTING, RunningStage.VALIDATING)
    assert seen["train"] == (TrainerFn.FITTING, RunningStage.TRAINING, False)
    assert not trainer.sanity_checking


# ------------------------------------------------------------------ debugging flags
def test_fast_dev_run_true(tmp_path):
    model = CountingModel()
    trainer = pl.Trainer(default_root_dir=str(tmp_path), fast_dev_run=True, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model)
    assert model.train_batches == [(0, 0)]
    assert model.sanity_calls == 0
    assert model.val_calls == 1
    assert trainer.global_step == 1
    # no logs, no checkpoints are written
    assert glob.glob(os.path.join(str(tmp_path), "**", "*.ckpt"), recursive=True) == []
    assert not os.path.exists(os.path.join(str(tmp_path), "lightning_logs"))


def test_fast_dev_run_int(tmp_path):
    model = CountingModel()
    trainer = pl.Trainer(default_root_dir=str(tmp_path), fast_dev_run=3, max_epochs=5, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model)
    assert model.train_batches == [(0, 0), (0, 1), (0, 2)]
    assert model.val_calls == 3
    assert trainer.global_step == 3
    assert glob.glob(os.path.join(str(tmp_path), "**", "*.ckpt"), recursive=True) == []


def test_fast_dev_run_for_test_and_predict(tmp_path):
    trainer = pl.Trainer(default_root_dir=str(tmp_path), fast_dev_run=2, enable_progress_bar=False,
                         enable_model_summary=False)
    preds = trainer.predict(BoringModel(), random_loader(length=20))
    assert len(preds) == 2


def test_overfit_batches_uses_the_same_first_batches_every_epoch(tmp_path):
    class Model(CountingModel):
        def train_dataloader(self):
            return random_loader(length=16, batch_size=2, shuffle=True)

    model = Model()
    trainer = make_trainer(tmp_path, max_epochs=3, overfit_batches=2, num_sanity_val_steps=0)
    trainer.fit(model)
    assert len(model.seen) == 6
    first_two = model.seen[:2]
    assert model.seen == first_two * 3
    assert model.val_calls == 6  # overfit_batches also limits validation to 2 batches


def test_overfit_batches_sequential_order(tmp_path):
    dl = random_loader(length=16, batch_size=2, shuffle=True)
    seen = []

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            seen.append(batch.clone())
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, max_epochs=1, overfit_batches=2, limit_val_batches=0)
    trainer.fit(Model(), dl)
    data = dl.dataset.data
    assert torch.equal(seen[0], data[0:2]) and torch.equal(seen[1], data[2:4])


def test_log_every_n_steps(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            self.log("loss", out["loss"])
            return out

    logger = RecordingLogger()
    trainer = make_trainer(tmp_path, logger=logger, log_every_n_steps=2, limit_train_batches=6, limit_val_batches=0)
    trainer.fit(Model())
    steps = [s for s, m in logger.calls if "loss" in m]
    assert steps == [1, 3, 5]


def test_deterministic(tmp_path):
    seen = {}

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            seen["det"] = torch.are_deterministic_algorithms_enabled()
            return super().training_step(batch, batch_idx)

    before = torch.are_deterministic_algorithms_enabled()
    try:
        trainer = make_trainer(tmp_path, deterministic=True, limit_train_batches=1, limit_val_batches=0)
        trainer.fit(Model())
        assert seen["det"] is True
    finally:
        torch.use_deterministic_algorithms(before)


def test_benchmark_flag_sets_cudnn_benchmark(tmp_path):
    before = torch.backends.cudnn.benchmark
    try:
        make_trainer(tmp_path, benchmark=True)
        assert torch.backends.cudnn.benchmark is True
        make_trainer(tmp_path, benchmark=False)
        assert torch.backends.cudnn.benchmark is False
    finally:
        torch.backends.cudnn.benchmark = before


class GradModeModel(BoringModel):
    def __init__(self):
        super().__init__()
        self.modes = {}

    def training_step(self, batch, batch_idx):
        self.modes["train"] = (torch.is_grad_enabled(), torch.is_inference_mode_enabled(), self.training)
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch, batch_idx):
        key = "fit_val" if self.trainer.state.fn == "fit" else "validate"
        self.modes[key] = (torch.is_grad_enabled(), torch.is_inference_mode_enabled(), self.training)
        return super().validation_step(batch, batch_idx)

    def test_step(self, batch, batch_idx):
        self.modes["test"] = (torch.is_grad_enabled(), torch.is_inference_mode_enabled(), self.training)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        self.modes["predict"] = (torch.is_grad_enabled(), torch.is_inference_mode_enabled(), self.training)
        return self(batch)


@pytest.mark.parametrize("inference_mode", [True, False])
def test_inference_mode(tmp_path, inference_mode):
    model = GradModeModel()
    trainer = make_trainer(tmp_path, inference_mode=inference_mode, limit_train_batches=1, limit_val_batches=1,
                           limit_test_batches=1, limit_predict_batches=1, num_sanity_val_steps=0)
    trainer.fit(model)
    trainer.validate(model)
    trainer.test(model)
    assert model.training  # back in train mode after evaluation
    trainer.predict(model)
    assert model.modes["train"] == (True, False, True)
    # validation inside fit never uses inference mode (its tensors could leak into training)
    assert model.modes["fit_val"] == (False, False, False)
    for key in ("validate", "test", "predict"):
        assert model.modes[key] == (False, inference_mode, False), key


def test_detect_anomaly(tmp_path):
    seen = {}

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            seen["anomaly"] = torch.is_anomaly_enabled()
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, detect_anomaly=True, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(Model())
    assert seen["anomaly"] is True
    assert not torch.is_anomaly_enabled()  # restored after fit

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(Model())
    assert seen["anomaly"] is False


def test_barebones(tmp_path):
    class Model(CountingModel):
        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            self.log("loss", out["loss"])
            return out

    model = Model()
    trainer = pl.Trainer(default_root_dir=str(tmp_path), barebones=True, max_epochs=1, limit_train_batches=2,
                         limit_val_batches=1)
    assert trainer.logger is None
    assert trainer.loggers == []
    assert trainer.checkpoint_callback is None
    assert trainer.progress_bar_callback is None
    assert trainer.num_sanity_val_steps == 0
    with pytest.warns(UserWarning, match="barebones"):
        trainer.fit(model)
    assert trainer.global_step == 2
    assert model.sanity_calls == 0 and model.val_calls == 1
    assert "loss" not in trainer.callback_metrics  # logging is disabled, with a warning
    assert os.listdir(str(tmp_path)) == []


def test_barebones_refuses_opt_outs(tmp_path):
    from runtime.utilities.exceptions import MisconfigurationException

    with pytest.raises((ValueError, MisconfigurationException), match="barebones"):
        pl.Trainer(default_root_dir=str(tmp_path), barebones=True, enable_checkpointing=True)
    with pytest.raises((ValueError, MisconfigurationException), match="barebones"):
        pl.Trainer(default_root_dir=str(tmp_path), barebones=True, enable_progress_bar=True)


def test_reload_dataloaders_every_n_epochs(tmp_path):
    model = CountingModel()
    trainer = make_trainer(tmp_path, max_epochs=3, limit_train_batches=1, limit_val_batches=1,
                           num_sanity_val_steps=0, reload_dataloaders_every_n_epochs=1)
    trainer.fit(model)
    assert model.train_dl_calls == 3

    model = CountingModel()
    trainer = make_trainer(tmp_path, max_epochs=3, limit_train_batches=1, limit_val_batches=1,
                           num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.train_dl_calls == 1
    assert model.val_dl_calls == 1


def test_default_root_dir_and_log_dir(tmp_path):
    trainer = make_trainer(tmp_path / "root")
    assert trainer.default_root_dir == str(tmp_path / "root")
    assert trainer.log_dir == str(tmp_path / "root")  # no logger: log_dir is the root dir


def test_defaults_write_logs_and_checkpoints_under_default_root_dir(tmp_path):
    trainer = pl.Trainer(default_root_dir=str(tmp_path), max_epochs=1, limit_train_batches=2, limit_val_batches=1,
                         enable_progress_bar=False, enable_model_summary=False)
    assert trainer.logger is not None
    assert trainer.checkpoint_callback is not None
    trainer.fit(BoringModel())
    version_dir = os.path.join(str(tmp_path), "lightning_logs", "version_0")
    assert os.path.normpath(trainer.log_dir) == os.path.normpath(version_dir)
    assert os.path.isfile(os.path.join(version_dir, "checkpoints", "epoch=0-step=2.ckpt"))


def test_default_root_dir_defaults_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert os.path.realpath(trainer.default_root_dir) == os.path.realpath(str(tmp_path))


# ------------------------------------------------------------------ trainer properties
def test_trainer_properties_during_and_after_fit(tmp_path):
    seen = {}

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            t = self.trainer
            seen.setdefault("epochs", []).append(t.current_epoch)
            seen.setdefault("steps", []).append(t.global_step)
            seen["is_global_zero"] = t.is_global_zero
            seen["module"] = t.lightning_module
            seen["state"] = (t.state.fn, t.state.stage)
            return super().training_step(batch, batch_idx)

    model = Model()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=1)
    trainer.fit(model)
    assert seen["epochs"] == [0, 0, 1, 1]
    assert seen["steps"] == [0, 1, 2, 3]
    assert seen["is_global_zero"] is True
    assert seen["module"] is model
    assert seen["state"] == ("fit", "train")
    assert trainer.lightning_module is model
    assert trainer.state.fn == TrainerFn.FITTING
    assert trainer.state.stage is None
    assert trainer.state.finished
    assert trainer.current_epoch == 2 and trainer.global_step == 4
    assert trainer.is_global_zero


@pytest.mark.parametrize(("fn", "stage"), [("validate", "validate"), ("test", "test"), ("predict", "predict")])
def test_state_in_eval_entry_points(tmp_path, fn, stage):
    seen = {}

    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            seen["s"] = (self.trainer.state.fn, self.trainer.state.stage)

        def test_step(self, batch, batch_idx):
            seen["s"] = (self.trainer.state.fn, self.trainer.state.stage)

        def predict_step(self, batch, batch_idx, dataloader_idx=0):
            seen["s"] = (self.trainer.state.fn, self.trainer.state.stage)
            return self(batch)

    trainer = make_trainer(tmp_path, limit_val_batches=1, limit_test_batches=1, limit_predict_batches=1)
    getattr(trainer, fn)(Model())
    assert seen["s"] == (TrainerFn(fn), RunningStage(stage))
    assert seen["s"] == (fn, stage)
    assert trainer.state.fn == fn
    assert trainer.state.finished


def test_min_max_properties(tmp_path):
    trainer = make_trainer(tmp_path, min_epochs=2, max_epochs=4, min_steps=3, max_steps=10)
    assert (trainer.min_epochs, trainer.max_epochs, trainer.min_steps, trainer.max_steps) == (2, 4, 3, 10)


def test_fast_dev_run_swaps_the_logger_for_one_that_records_nothing(tmp_path):
    from runtime.loggers.logger import DummyLogger

    class UsesExperiment(BoringModel):
        def training_step(self, batch, batch_idx):
            self.logger.experiment.add_histogram("w", self.layer.weight)  # user code that assumes a logger
            return super().training_step(batch, batch_idx)

    trainer = pl.Trainer(default_root_dir=tmp_path, fast_dev_run=2, enable_progress_bar=False)
    assert isinstance(trainer.logger, DummyLogger)
    trainer.fit(UsesExperiment())
    assert not (tmp_path / "lightning_logs").exists()
    assert pl.Trainer(default_root_dir=tmp_path, fast_dev_run=True, logger=False).logger is None


def test_progress_bar_val_total_is_zero_in_epochs_without_validation(tmp_path):
    totals = []

    class Model(BoringModel):
        def on_train_epoch_end(self):
            totals.append(self.trainer.progress_bar_callback.total_val_batches)

    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=4, limit_train_batches=1, limit_val_batches=2,
                         check_val_every_n_epoch=2, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
                         enable_model_summary=False)
    trainer.fit(Model())
    assert totals == [0, 2, 0, 2]


def test_an_unset_max_epochs_is_named_at_the_first_fit(tmp_path, recwarn):
    from runtime.callbacks import Timer
    from runtime.utilities.warnings import PossibleUserWarning

    class StopsAtOnce(BoringModel):
        def training_step(self, batch, batch_idx):
            self.trainer.should_stop = True
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, max_epochs=None, limit_train_batches=1, limit_val_batches=0)
    with pytest.warns(PossibleUserWarning, match="`max_epochs` was not set. Setting it to 1000 epochs."):
        trainer.fit(StopsAtOnce())
    assert trainer.max_epochs == 1000 and trainer.current_epoch == 1
    recwarn.clear()
    trainer.fit(StopsAtOnce())  # said once
    make_trainer(tmp_path, max_epochs=3, limit_train_batches=1, limit_val_batches=0).fit(BoringModel())
    assert not [w for w in recwarn if "max_epochs` was not set" in str(w.message)]
    timed = make_trainer(tmp_path, max_epochs=None, callbacks=[Timer(duration={"seconds": 60})], limit_train_batches=1)
    timed.fit(StopsAtOnce())  # a Timer bounds the run: no epoch limit, nothing to say
    assert timed.max_epochs == -1
    assert not [w for w in recwarn if "max_epochs` was not set" in str(w.message)]


def test_resuming_past_max_epochs_is_refused(tmp_path):
    trainer = make_trainer(tmp_path, max_epochs=3, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(BoringModel())
    trainer.save_checkpoint(tmp_path / "three.ckpt")
    with pytest.raises(MisconfigurationException, match=r"current_epoch=3, but you have set Trainer\(max_epochs=2\)"):
        make_trainer(tmp_path, max_epochs=2, limit_train_batches=1).fit(BoringModel(), ckpt_path=tmp_path / "three.ckpt")
    again = make_trainer(tmp_path, max_epochs=3, limit_train_batches=1)
    again.fit(BoringModel(), ckpt_path=tmp_path / "three.ckpt")  # max_epochs reached: nothing to do, no error
    assert again.current_epoch == 3
