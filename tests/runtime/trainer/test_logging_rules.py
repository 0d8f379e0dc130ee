"""Where a logged value shows, and when: Lightning's rules for ``self.log`` (callback / logged / progress-bar
metrics, names with several evaluation loaders, what each call to the loggers holds, the printed table),
and the errors for options Lightning refuses."""
import pytest
import torch

import runtime as pl
from runtime.demos.boring_classes import BoringModel
from runtime.loops import _EvaluationLoop
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import RecordingLogger, make_trainer, random_loader


def keyword_logger():
    """A logger whose ``log_metrics`` takes keywords only, as Lightning calls it (``metrics=``, ``step=``)."""
    logger = RecordingLogger()
    logger.kw_calls = []

    def log_metrics(*, metrics, step):
        logger.kw_calls.append((dict(metrics), step))

    logger.log_metrics = log_metrics
    return logger


def test_evaluation_step_values_go_to_loggers_not_to_callback_metrics(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("a", 1.0, on_step=True, on_epoch=True)
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch, batch_idx):
            self.log("b", float(batch_idx), on_step=True, on_epoch=True, prog_bar=True)

    trainer = make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=2, num_sanity_val_steps=0,
                           log_every_n_steps=1)
    trainer.fit(Model())
    assert set(trainer.callback_metrics) == {"a", "a_step", "a_epoch", "b", "b_epoch"}
    assert set(trainer.logged_metrics) == {"a_step", "a_epoch", "b_step", "b_epoch"}
    assert trainer.progress_bar_metrics == {"b_step": 1.0, "b_epoch": 0.5}
    assert all(type(v) is float for v in trainer.progress_bar_metrics.values())


def test_several_loaders_name_forked_values_and_keep_each_loader_apart(tmp_path):
    class Model(BoringModel):
        def test_step(self, batch, batch_idx, dataloader_idx=0):
            self.log("loss", float(dataloader_idx), on_step=True, on_epoch=True)
            self.log(f"only_{dataloader_idx}", 5.0, add_dataloader_idx=False)

        def on_test_epoch_end(self):
            self.log("end", 7.0)

    results = make_trainer(tmp_path, limit_test_batches=2).test(Model(), [random_loader(), random_loader()])
    assert results == [
        {"loss_epoch/dataloader_idx_0": 0.0, "only_0": 5.0, "end": 7.0},
        {"loss_epoch/dataloader_idx_1": 1.0, "only_1": 5.0, "end": 7.0},
    ]


def test_a_suffix_in_the_name_is_refused_unless_the_suffix_is_turned_off(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("x/dataloader_idx_0", 1.0)
            return super().training_step(batch, batch_idx)

    with pytest.raises(MisconfigurationException, match="`self.log` with the key `x/dataloader_idx_0`"):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


def test_loggers_get_keyword_calls_eval_steps_count_on_and_have_no_epoch(tmp_path):
    class Model(BoringModel):
        def on_train_start(self):
            self.log("start", 3.0)

        def training_step(self, batch, batch_idx):
            self.log("t", 1.0)
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch, batch_idx):
            self.log("v", float(batch_idx), on_step=True, on_epoch=False)

    logger = keyword_logger()
    trainer = make_trainer(tmp_path, logger=logger, max_epochs=2, limit_train_batches=1, limit_val_batches=2,
                           num_sanity_val_steps=1, log_every_n_steps=1)
    trainer.fit(Model())
    assert logger.kw_calls == [
        ({"t": 1.0, "epoch": 0}, 0),
        ({"v": 0.0}, 0), ({"v": 1.0}, 1),  # the sanity check logs nothing, and does not count
        ({"start": 3.0, "epoch": 0}, 0),  # on_train_start's value is the first epoch's
        ({"t": 1.0, "epoch": 1}, 1),
        ({"v": 0.0}, 2), ({"v": 1.0}, 3),  # the validation steps of one fit count on
    ]


def test_callbacks_log_through_the_module(tmp_path):
    class LoggingCallback(pl.Callback):
        def on_train_start(self, trainer, pl_module):
            self.log("cb_start", 1)

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            self.log_dict({"cb_batch": 2})

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0, callbacks=[LoggingCallback()])
    trainer.fit(BoringModel())
    assert trainer.callback_metrics == {"cb_start": 1.0, "cb_batch": 2.0}


def test_epoch_end_logging_shows_at_once_and_results_are_addressable(tmp_path):
    seen = {}

    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("v", 1.0, reduce_fx="sum")

        def on_validation_epoch_end(self):
            self.log("end", 3.0)
            seen["end"] = float(self.trainer.callback_metrics["end"])
            seen["v.total"] = float(self.trainer._results["validation_step.v"].value)
            seen["end.value"] = float(self.trainer._results["on_validation_epoch_end.end"].value)

    make_trainer(tmp_path, limit_val_batches=3).validate(Model(), random_loader(), verbose=False)
    assert seen == {"end": 3.0, "v.total": 3.0, "end.value": 3.0}


def test_each_call_starts_with_empty_metrics(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("train_loss", 1.0)
            return super().training_step(batch, batch_idx)

        def test_step(self, batch, batch_idx):
            self.log("test_loss", 2.0)

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0, limit_test_batches=1)
    model = Model()
    trainer.fit(model)
    trainer.test(model, random_loader(), verbose=False)
    assert set(trainer.callback_metrics) == {"test_loss"}


def test_a_dataloader_hook_set_to_none_is_no_hook(tmp_path):
    model = BoringModel()
    model.val_dataloader = None
    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=2)
    trainer.fit(model)
    assert trainer.num_val_batches == []


@pytest.mark.parametrize(
    ("log_kwargs", "match"),
    [
        (dict(on_step=False, on_epoch=False), "is not useful"),
        (dict(reduce_fx=torch.argmax), r"reduce_fx=\{min,max,mean,sum\}\)` are supported"),
        (dict(value=torch.tensor([1.0, 2.0])), "tensor must have a single element"),
    ],
)
def test_options_lightning_refuses(tmp_path, log_kwargs, match):
    value = log_kwargs.pop("value", 1.0)

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("x", value, **log_kwargs)
            return super().training_step(batch, batch_idx)

    with pytest.raises((MisconfigurationException, ValueError), match=match):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


def test_one_name_logged_twice_with_other_options_is_an_error(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("x", 1.0, prog_bar=False)
            self.log("x", 1.0, prog_bar=True)
            return super().training_step(batch, batch_idx)

    with pytest.raises(MisconfigurationException, match=r"self.log\(x, ...\)` twice in `training_step`"):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


def test_the_same_options_spelled_otherwise_are_no_error(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("x", 1.0, logger=None, reduce_fx="mean")
            self.log("x", 2.0, logger=True, reduce_fx=torch.mean)
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(Model())
    assert trainer.callback_metrics["x"] == 2.0


@pytest.mark.parametrize(("hook", "match"), [("on_train_end", r"You can't `self.log\(\)` inside `on_train_end`"),
                                             ("on_train_epoch_start", r"self.log\(on_step=True\)` inside")])
def test_hooks_that_cannot_log(tmp_path, hook, match):
    class Model(BoringModel):
        def on_train_end(self):
            if hook == "on_train_end":
                self.log("x", 1.0)

        def on_train_epoch_start(self):
            if hook == "on_train_epoch_start":
                self.log("x", 1.0, on_step=True)

    with pytest.raises(MisconfigurationException, match=match):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


def test_a_metric_must_be_an_attribute_of_the_module(tmp_path):
    metrics = pytest.importorskip("runtime.metrics")

    class Model(BoringModel):
        def __init__(self):
            super().__init__()
            self.kept = metrics.MeanMetric()

        def training_step(self, batch, batch_idx):
            stray = metrics.MeanMetric()
            stray.update(1.0)
            self.log("m", stray)
            return super().training_step(batch, batch_idx)

    with pytest.raises(MisconfigurationException, match=r"metric_attribute=name\)` where `name` is one of \['kept'\]"):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


def test_results_table_is_lightnings(monkeypatch, capsys):
    """The lines Lightning 2.6.5 prints for the same input (80 columns: two loaders per table)."""
    import runtime.loops.evaluation_loop as evaluation_loop

    monkeypatch.setattr(evaluation_loop, "_RICH_AVAILABLE", False)
    monkeypatch.setenv("COLUMNS", "80")
    _EvaluationLoop._print_results(
        [{"acc/dataloader_idx_0": torch.tensor(0.5), "nested": {"x": 2}}, {"acc": 1.0}, {"acc": 3}], "validate")
    bar = "─" * 80
    assert capsys.readouterr().out.splitlines() == [
        bar,
        "     Validate metric           DataLoader 0             DataLoader 1",
        bar,
        "           acc                      0.5                      1.0",
        "        nested:x                     2",
        bar,
        bar,
        "     Validate metric           DataLoader 2",
        bar,
        "           acc                       3",
        "        nested:x",
        bar,
    ]


def test_validate_prints_its_table(tmp_path, capsys, monkeypatch):
    import runtime.loops.evaluation_loop as evaluation_loop

    monkeypatch.setattr(evaluation_loop, "_RICH_AVAILABLE", False)

    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("val_acc", 0.25)

    make_trainer(tmp_path).validate(Model(), random_loader())
    out = capsys.readouterr().out
    assert "Validate metric" in out and "val_acc" in out and "0.25" in out
