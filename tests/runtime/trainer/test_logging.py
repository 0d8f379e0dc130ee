"""self.log / self.log_dict: defaults by hook, reductions, batch-size weighting, prog_bar, logger, suffixes,
and the errors for values or places that make no sense."""
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import RecordingLogger, make_trainer, random_loader


class StepValueModel(BoringModel):
    """Logs the value batch_idx + 1 from training_step with the given self.log kwargs."""

    def __init__(self, **log_kwargs):
        super().__init__()
        self.log_kwargs = log_kwargs

    def training_step(self, batch, batch_idx):
        self.log("a", float(batch_idx + 1), **self.log_kwargs)
        return super().training_step(batch, batch_idx)


def _fit(tmp_path, model, logger=None, **kwargs):
    opts = dict(limit_train_batches=4, limit_val_batches=0, log_every_n_steps=1)
    opts.update(kwargs)
    if logger is not None:
        opts["logger"] = logger
    trainer = make_trainer(tmp_path, **opts)
    trainer.fit(model)
    return trainer


# ------------------------------------------------------------------ defaults per hook
def test_training_step_defaults_to_on_step(tmp_path):
    logger = RecordingLogger()
    trainer = _fit(tmp_path, StepValueModel(), logger=logger)
    assert logger.values("a") == [1.0, 2.0, 3.0, 4.0]
    assert float(trainer.callback_metrics["a"]) == 4.0
    assert "a_epoch" not in trainer.callback_metrics and "a_step" not in trainer.callback_metrics
    assert float(trainer.logged_metrics["a"]) == 4.0


def test_on_step_and_on_epoch_fork_the_name(tmp_path):
    logger = RecordingLogger()
    trainer = _fit(tmp_path, StepValueModel(on_step=True, on_epoch=True, prog_bar=True), logger=logger)
    assert logger.values("a_step") == [1.0, 2.0, 3.0, 4.0]
    assert logger.values("a_epoch") == [2.5]
    assert "a" not in logger.keys()
    # step metrics go out at steps 0..3; the epoch value is logged at the epoch's last step
    assert [s for s, m in logger.calls if "a_step" in m] == [0, 1, 2, 3]
    assert [s for s, m in logger.calls if "a_epoch" in m] == [3]
    cm = trainer.callback_metrics
    assert float(cm["a_step"]) == 4.0
    assert float(cm["a_epoch"]) == 2.5
    assert float(cm["a"]) == 2.5
    pb = trainer.progress_bar_metrics
    assert "a_step" in pb and "a_epoch" in pb and "a" not in pb
    assert float(trainer.logged_metrics["a_epoch"]) == 2.5


def test_training_on_epoch_only(tmp_path):
    logger = RecordingLogger()
    trainer = _fit(tmp_path, StepValueModel(on_step=False, on_epoch=True), logger=logger)
    assert logger.values("a") == [2.5]
    assert float(trainer.callback_metrics["a"]) == 2.5


class ValModel(BoringModel):
    def __init__(self, values, sizes=None, **log_kwargs):
        super().__init__()
        self.values, self.sizes, self.log_kwargs = values, sizes, log_kwargs

    def validation_step(self, batch, batch_idx):
        kwargs = dict(self.log_kwargs)
        if self.sizes is not None:
            kwargs["batch_size"] = self.sizes[batch_idx]
        self.log("v", self.values[batch_idx], **kwargs)


def _validate(tmp_path, model, n=4):
    trainer = make_trainer(tmp_path)
    return trainer, trainer.validate(model, random_loader(length=2 * n, batch_size=2))


def test_validation_step_defaults_to_on_epoch_mean(tmp_path):
    trainer, results = _validate(tmp_path, ValModel([1.0, 2.0, 3.0, 4.0]))
    assert results == [{"v": pytest.approx(2.5)}]
    assert float(trainer.callback_metrics["v"]) == pytest.approx(2.5)
    assert "v_step" not in trainer.callback_metrics and "v_epoch" not in trainer.callback_metrics


@pytest.mark.parametrize(
    ("reduce_fx", "expected"),
    [("mean", 2.5), ("sum", 10.0), ("max", 4.0), ("min", 1.0), (torch.mean, 2.5), (torch.sum, 10.0),
     (torch.max, 4.0), (torch.min, 1.0)],
)
def test_reduce_fx(tmp_path, reduce_fx, expected):
    _, results = _validate(tmp_path, ValModel([1.0, 4.0, 2.0, 3.0], reduce_fx=reduce_fx))
    assert results[0]["v"] == pytest.approx(expected)


def test_mean_is_weighted_by_explicit_batch_size(tmp_path):
    _, results = _validate(tmp_path, ValModel([1.0, 2.0, 3.0, 4.0], sizes=[1, 2, 3, 4]))
    assert results[0]["v"] == pytest.approx((1 + 4 + 9 + 16) / 10)


def test_mean_is_weighted_by_inferred_batch_size(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("v", float(batch_idx + 1))

    trainer = make_trainer(tmp_path)
    # 6 samples in batches of 4 and 2
    results = trainer.validate(Model(), random_loader(length=6, batch_size=4))
    assert results[0]["v"] == pytest.approx((1 * 4 + 2 * 2) / 6)


def test_batch_size_inferred_from_nested_batches(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("v", float(batch_idx + 1))

    x = torch.randn(6, 32)
    dl = DataLoader(TensorDataset(x, torch.zeros(6)), batch_size=4)
    results = make_trainer(tmp_path).validate(Model(), dl)
    assert results[0]["v"] == pytest.approx(8 / 6)


def test_sum_is_not_weighted_by_batch_size(tmp_path):
    _, results = _validate(tmp_path, ValModel([1.0, 2.0, 3.0, 4.0], sizes=[1, 2, 3, 4], reduce_fx="sum"))
    assert results[0]["v"] == pytest.approx(10.0)


def test_validation_on_step_true(tmp_path):
    logger = RecordingLogger()
    trainer = make_trainer(tmp_path, logger=logger)
    trainer.validate(ValModel([1.0, 2.0, 3.0, 4.0], on_step=True, on_epoch=True),
                     random_loader(length=8, batch_size=2))
    assert logger.values("v_epoch") == [2.5]
    assert len(logger.values("v_step")) == 4


def test_prog_bar_and_logger_flags(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("shown", 1.0, prog_bar=True)
            self.log("hidden", 2.0)
            self.log("not_logged", 3.0, logger=False, prog_bar=True)
            return super().training_step(batch, batch_idx)

    logger = RecordingLogger()
    trainer = _fit(tmp_path, Model(), logger=logger)
    pb = trainer.progress_bar_metrics
    assert pb["shown"] == 1.0 and "hidden" not in pb and pb["not_logged"] == 3.0
    assert "not_logged" not in logger.keys() and "not_logged" not in trainer.logged_metrics
    assert {"shown", "hidden"} <= logger.keys()
    assert float(trainer.callback_metrics["not_logged"]) == 3.0


def test_log_dict(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log_dict({"m1": 1.0, "m2": torch.tensor(2.0)}, prog_bar=True)

    trainer = make_trainer(tmp_path)
    results = trainer.validate(Model(), random_loader())
    assert results == [{"m1": 1.0, "m2": 2.0}]
    assert trainer.progress_bar_metrics == {"m1": 1.0, "m2": 2.0}


def test_sync_dist_and_rank_zero_only_are_accepted(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("s", 1.0, sync_dist=True)
            self.log("r", 2.0, rank_zero_only=True)

    results = make_trainer(tmp_path).validate(Model(), random_loader())
    assert results == [{"s": 1.0, "r": 2.0}]


def test_log_from_epoch_end_hooks(tmp_path):
    class Model(BoringModel):
        def on_train_epoch_end(self):
            self.log("train_end", float(self.current_epoch))

        def on_validation_epoch_end(self):
            self.log("val_end", 7.0)

    logger = RecordingLogger()
    trainer = _fit(tmp_path, Model(), logger=logger, max_epochs=2, limit_val_batches=1, num_sanity_val_steps=0)
    assert float(trainer.callback_metrics["train_end"]) == 1.0
    assert float(trainer.callback_metrics["val_end"]) == 7.0
    assert logger.values("train_end") == [0.0, 1.0]


def test_validation_metrics_reach_callback_metrics_during_fit(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.step(batch))

    seen = []

    class Peek(pl.Callback):
        def on_validation_epoch_end(self, trainer, pl_module):
            pass

        def on_train_epoch_end(self, trainer, pl_module):
            seen.append(float(trainer.callback_metrics["val_loss"]))

    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=1, limit_val_batches=2,
                           num_sanity_val_steps=0, callbacks=[Peek()])
    trainer.fit(Model())
    assert len(seen) == 2


def test_sanity_check_metrics_do_not_leak(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("val_metric", 5.0 if self.trainer.sanity_checking else 1.0)

    seen = []

    class Peek(pl.Callback):
        def on_train_start(self, trainer, pl_module):
            seen.append(dict(trainer.callback_metrics))

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=1,
                           callbacks=[Peek()])
    trainer.fit(Model())
    assert "val_metric" not in seen[0]
    assert float(trainer.callback_metrics["val_metric"]) == 1.0


def test_test_returns_logged_metrics(tmp_path):
    class Model(BoringModel):
        def test_step(self, batch, batch_idx):
            self.log("test_metric", float(batch_idx))

    results = make_trainer(tmp_path).test(Model(), random_loader(length=6))
    assert results == [{"test_metric": pytest.approx(1.0)}]


def test_logging_tensor_on_device_and_python_numbers(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("int", 3)
            self.log("float", 1.5)
            self.log("tensor", torch.tensor(2.0))
            self.log("scalar_1d", torch.tensor([4.0]))

    results = make_trainer(tmp_path).validate(Model(), random_loader())
    assert results == [{"int": 3.0, "float": 1.5, "tensor": 2.0, "scalar_1d": 4.0}]


# ------------------------------------------------------------------ errors
def test_logging_a_non_scalar_tensor_is_an_error(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("my_vector", torch.ones(3))
            return super().training_step(batch, batch_idx)

    with pytest.raises((ValueError, MisconfigurationException), match="my_vector"):
        _fit(tmp_path, Model())


def test_logging_a_string_is_an_error(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("my_text", "hello")
            return super().training_step(batch, batch_idx)

    with pytest.raises((ValueError, TypeError, MisconfigurationException), match="my_text"):
        _fit(tmp_path, Model())


def test_logging_a_nested_dict_is_an_error(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("nested", {"a": {"b": 1.0}})
            return super().training_step(batch, batch_idx)

    with pytest.raises((ValueError, TypeError, MisconfigurationException), match="nested"):
        _fit(tmp_path, Model())


@pytest.mark.parametrize("hook", ["setup", "configure_optimizers", "prepare_data", "on_fit_start",
                                  "on_before_batch_transfer", "configure_callbacks"])
def test_logging_where_it_makes_no_sense_is_an_error(tmp_path, hook):
    class Model(BoringModel):
        def setup(self, stage):
            if hook == "setup":
                self.log("x", 1.0)

        def prepare_data(self):
            if hook == "prepare_data":
                self.log("x", 1.0)

        def on_fit_start(self):
            if hook == "on_fit_start":
                self.log("x", 1.0)

        def configure_callbacks(self):
            if hook == "configure_callbacks":
                self.log("x", 1.0)
            return []

        def on_before_batch_transfer(self, batch, dataloader_idx):
            if hook == "on_before_batch_transfer":
                self.log("x", 1.0)
            return batch

        def configure_optimizers(self):
            if hook == "configure_optimizers":
                self.log("x", 1.0)
            return super().configure_optimizers()

    with pytest.raises(MisconfigurationException, match=hook):
        _fit(tmp_path, Model())


def test_logging_in_predict_is_an_error(tmp_path):
    class Model(BoringModel):
        def predict_step(self, batch, batch_idx, dataloader_idx=0):
            self.log("x", 1.0)
            return self(batch)

    with pytest.raises(MisconfigurationException, match="predict"):
        make_trainer(tmp_path).predict(Model(), random_loader())


def test_logging_allowed_in_batch_and_epoch_hooks(tmp_path):
    class Model(BoringModel):
        def on_train_batch_end(self, outputs, batch, batch_idx):
            self.log("batch_end", 1.0)

        def on_before_optimizer_step(self, optimizer):
            self.log("pre_step", 2.0)

        def on_train_epoch_start(self):
            self.log("epoch_start", 3.0)

        def on_validation_batch_end(self, outputs, batch, batch_idx, dataloader_idx=0):
            self.log("val_batch_end", 4.0)

    trainer = _fit(tmp_path, Model(), limit_val_batches=1, num_sanity_val_steps=0)
    for key, val in [("batch_end", 1.0), ("pre_step", 2.0), ("epoch_start", 3.0), ("val_batch_end", 4.0)]:
        assert float(trainer.callback_metrics[key]) == val


def test_self_log_outside_a_trainer_warns_and_does_nothing():
    model = BoringModel()
    with pytest.warns(UserWarning):
        model.log("x", 1.0)


def test_metric_object_is_computed_and_reset_each_epoch(tmp_path):
    metrics = pytest.importorskip("runtime.metrics")

    class Model(BoringModel):
        def __init__(self):
            super().__init__()
            self.agg = metrics.MeanMetric()

        def training_step(self, batch, batch_idx):
            self.agg(float(self.current_epoch * 10 + batch_idx))
            self.log("agg", self.agg, on_step=False, on_epoch=True)
            return super().training_step(batch, batch_idx)

        def on_train_epoch_end(self):
            self.seen = getattr(self, "seen", []) + [float(self.trainer.callback_metrics["agg"])]

    model = Model()
    _fit(tmp_path, model, max_epochs=2, limit_train_batches=2)
    # epoch 0: mean(0, 1); epoch 1: mean(10, 11) -- the state was reset in between
    assert model.seen[-1] == pytest.approx(10.5)


def test_epoch_values_are_visible_to_callbacks_at_train_epoch_end(tmp_path):
    """What EarlyStopping/ModelCheckpoint rely on: in on_train_epoch_end, callback_metrics hold the epoch
    aggregate of values logged with on_epoch=True in training_step."""
    seen = []

    class Peek(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            seen.append((float(trainer.callback_metrics["a"]), float(trainer.callback_metrics["a_epoch"])))

    model = StepValueModel(on_step=True, on_epoch=True)
    _fit(tmp_path, model, max_epochs=2, callbacks=[Peek()])
    assert seen == [(2.5, 2.5), (2.5, 2.5)]


def test_step_values_are_visible_to_callbacks_during_the_epoch(tmp_path):
    seen = []

    class Peek(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen.append(float(trainer.callback_metrics["a"]))

    _fit(tmp_path, StepValueModel(), callbacks=[Peek()])
    assert seen == [1.0, 2.0, 3.0, 4.0]


def test_log_accepts_builtin_reductions_and_names_bad_values_as_lightning(tmp_path):
    import pytest as _pytest

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("hi", float(batch_idx), reduce_fx=max, on_step=False, on_epoch=True)
            self.log("lo", float(batch_idx), reduce_fx=min, on_step=False, on_epoch=True)
            return super().training_step(batch, batch_idx)

    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=3, limit_val_batches=0,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Model())
    assert trainer.callback_metrics["hi"].item() == 2.0 and trainer.callback_metrics["lo"].item() == 0.0

    class Bad(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("foo", "text")
            return super().training_step(batch, batch_idx)

    with _pytest.raises(ValueError, match=r"`self.log\(foo, text\)` was called, but `str` values cannot be logged"):
        pl.Trainer(default_root_dir=tmp_path, fast_dev_run=True, enable_progress_bar=False).fit(Bad())
