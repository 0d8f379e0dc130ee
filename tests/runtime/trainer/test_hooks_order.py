"""The order of every hook call is a contract (DESIGN.md "Fit hook order", Lightning 2.x test_hooks.py).

Every module hook, datamodule hook and callback hook is recorded when it returns (as Lightning's own
test does), so ``optimizer_step`` -- which runs the closure (training_step .. on_after_backward) and then
``on_before_optimizer_step`` / ``configure_gradient_clipping`` -- is listed after those.
Callback hooks run before the module's hook of the same name.
"""
import pytest
import torch

import runtime as pl
from runtime.demos.boring_classes import BoringModel, ManualOptimBoringModel

from tests.runtime.helpers import (
    bare_module_class, make_trainer, random_loader, recording_callback, recording_datamodule, recording_model,
)

TRANSFER = ["on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer"]


def _train_batch(*, zero_grad=True, step=True, sched=False):
    """One automatic-optimization training batch, as Lightning 2.x runs it."""
    out = [*TRANSFER, "Callback.on_train_batch_start", "on_train_batch_start", "training_step"]
    if zero_grad:
        out += ["Callback.on_before_zero_grad", "on_before_zero_grad", "optimizer_zero_grad"]
    out += ["Callback.on_before_backward", "on_before_backward", "backward", "Callback.on_after_backward",
            "on_after_backward"]
    if step:
        out += ["Callback.on_before_optimizer_step", "on_before_optimizer_step", "configure_gradient_clipping",
                "optimizer_step"]
    if sched:
        out += ["lr_scheduler_step"]
    out += ["Callback.on_train_batch_end", "on_train_batch_end"]
    return out


def _eval_run(fn, batches, dataloader=None, zero_grad=False):
    """One evaluation run (validation / test) of ``batches`` batches."""
    out = [dataloader] if dataloader else []
    if zero_grad:
        out.append("on_validation_model_zero_grad")
    out += [f"on_{fn}_model_eval", f"Callback.on_{fn}_start", f"on_{fn}_start",
            f"Callback.on_{fn}_epoch_start", f"on_{fn}_epoch_start"]
    for _ in range(batches):
        out += [*TRANSFER, f"Callback.on_{fn}_batch_start", f"on_{fn}_batch_start", f"{fn}_step",
                f"Callback.on_{fn}_batch_end", f"on_{fn}_batch_end"]
    out += [f"Callback.on_{fn}_epoch_end", f"on_{fn}_epoch_end", f"Callback.on_{fn}_end", f"on_{fn}_end",
            f"on_{fn}_model_train"]
    return out


def _diff(actual, expected):
    for i, (a, e) in enumerate(zip(actual, expected)):
        if a != e:
            return f"first difference at {i}: got {a!r}, expected {e!r}; context got {actual[max(0, i-3):i+4]}"
    return f"lengths differ: got {len(actual)}, expected {len(expected)}; tail got {actual[len(expected):][:6]}"


def assert_calls(actual, expected):
    assert actual == expected, _diff(actual, expected)


def _record(tmp_path, fn="fit", base=BoringModel, datamodule=False, **trainer_kwargs):
    """Run ``trainer.<fn>`` on a recording module (and datamodule) with a recording callback, all writing into one
    list; return that list and the trainer."""
    called = []
    model = recording_model(called, base=base)
    data = {"datamodule": recording_datamodule(called)} if datamodule else {}
    trainer = make_trainer(tmp_path, callbacks=[recording_callback(called)], **trainer_kwargs)
    getattr(trainer, fn)(model, **data)
    return called, trainer


def test_fit_hook_order_with_datamodule(tmp_path):
    """The full list for one epoch of 2 batches, validation of 1 batch and a 1-batch sanity check, written out."""
    called, _ = _record(tmp_path, datamodule=True, max_epochs=1, limit_train_batches=2, limit_val_batches=1,
                        num_sanity_val_steps=1)
    expected = [
        "configure_callbacks",
        "dm.prepare_data",
        "prepare_data",
        "dm.setup:fit",
        "Callback.setup:fit",
        "setup:fit",
        "configure_model",
        "configure_optimizers",
        "Callback.on_fit_start",
        "on_fit_start",
        # sanity check
        "Callback.on_sanity_check_start",
        "dm.val_dataloader",
        "on_validation_model_eval",
        "Callback.on_validation_start",
        "on_validation_start",
        "Callback.on_validation_epoch_start",
        "on_validation_epoch_start",
        "on_before_batch_transfer",
        "transfer_batch_to_device",
        "on_after_batch_transfer",
        "Callback.on_validation_batch_start",
        "on_validation_batch_start",
        "validation_step",
        "Callback.on_validation_batch_end",
        "on_validation_batch_end",
        "Callback.on_validation_epoch_end",
        "on_validation_epoch_end",
        "Callback.on_validation_end",
        "on_validation_end",
        "on_validation_model_train",
        "Callback.on_sanity_check_end",
        # training
        "dm.train_dataloader",
        "Callback.on_train_start",
        "on_train_start",
        "Callback.on_train_epoch_start",
        "on_train_epoch_start",
        # batch 0
        "on_before_batch_transfer",
        "transfer_batch_to_device",
        "on_after_batch_transfer",
        "Callback.on_train_batch_start",
        "on_train_batch_start",
        "training_step",
        "Callback.on_before_zero_grad",
        "on_before_zero_grad",
        "optimizer_zero_grad",
        "Callback.on_before_backward",
        "on_before_backward",
        "backward",
        "Callback.on_after_backward",
        "on_after_backward",
        "Callback.on_before_optimizer_step",
        "on_before_optimizer_step",
        "configure_gradient_clipping",
        "optimizer_step",
        "Callback.on_train_batch_end",
        "on_train_batch_end",
        # batch 1: the last of the epoch, so BoringModel's epoch-interval StepLR steps before on_train_batch_end
        "on_before_batch_transfer",
        "transfer_batch_to_device",
        "on_after_batch_transfer",
        "Callback.on_train_batch_start",
        "on_train_batch_start",
        "training_step",
        "Callback.on_before_zero_grad",
        "on_before_zero_grad",
        "optimizer_zero_grad",
        "Callback.on_before_backward",
        "on_before_backward",
        "backward",
        "Callback.on_after_backward",
        "on_after_backward",
        "Callback.on_before_optimizer_step",
        "on_before_optimizer_step",
        "configure_gradient_clipping",
        "optimizer_step",
        "lr_scheduler_step",
        "Callback.on_train_batch_end",
        "on_train_batch_end",
        # validation at the end of the epoch
        "on_validation_model_zero_grad",
        "on_validation_model_eval",
        "Callback.on_validation_start",
        "on_validation_start",
        "Callback.on_validation_epoch_start",
        "on_validation_epoch_start",
        "on_before_batch_transfer",
        "transfer_batch_to_device",
        "on_after_batch_transfer",
        "Callback.on_validation_batch_start",
        "on_validation_batch_start",
        "validation_step",
        "Callback.on_validation_batch_end",
        "on_validation_batch_end",
        "Callback.on_validation_epoch_end",
        "on_validation_epoch_end",
        "Callback.on_validation_end",
        "on_validation_end",
        "on_validation_model_train",
        "Callback.on_train_epoch_end",
        "on_train_epoch_end",
        "Callback.on_train_end",
        "on_train_end",
        "Callback.on_fit_end",
        "on_fit_end",
        "dm.teardown:fit",
        "Callback.teardown:fit",
        "teardown:fit",
    ]
    assert_calls(called, expected)


def test_fit_hook_order_two_epochs_module_dataloaders_accumulation(tmp_path):
    """Module dataloader hooks, no sanity check, 2 epochs of 3 batches, accumulate_grad_batches=2.

    zero_grad runs on the first batch of each window, the optimizer steps at the window end and at the epoch
    end; the epoch-interval scheduler steps on the last batch.
    """
    called, trainer = _record(tmp_path, max_epochs=2, limit_train_batches=3, limit_val_batches=1,
                              num_sanity_val_steps=0, accumulate_grad_batches=2)
    epoch = [
        "Callback.on_train_epoch_start", "on_train_epoch_start",
        *_train_batch(zero_grad=True, step=False),
        *_train_batch(zero_grad=False, step=True),
        *_train_batch(zero_grad=True, step=True, sched=True),
        *_eval_run("validation", 1, zero_grad=True),
        "Callback.on_train_epoch_end", "on_train_epoch_end",
    ]
    expected = [
        "configure_callbacks", "prepare_data", "Callback.setup:fit", "setup:fit", "configure_model",
        "configure_optimizers", "Callback.on_fit_start", "on_fit_start",
        "train_dataloader", "val_dataloader",
        "Callback.on_train_start", "on_train_start",
        *epoch, *epoch,
        "Callback.on_train_end", "on_train_end", "Callback.on_fit_end", "on_fit_end",
        "Callback.teardown:fit", "teardown:fit",
    ]
    assert_calls(called, expected)
    assert trainer.global_step == 4


def test_fit_hook_order_with_checkpointing(tmp_path):
    """With the default ModelCheckpoint the save happens after on_train_epoch_end, before on_train_end."""
    called, _ = _record(tmp_path, datamodule=True, max_epochs=1, limit_train_batches=1, limit_val_batches=1,
                        num_sanity_val_steps=0, enable_checkpointing=True)
    i = called.index("on_train_epoch_end")
    j = called.index("on_train_end")
    between = called[i + 1 : j]
    assert "on_save_checkpoint" in between, called[i:]
    assert "Callback.on_save_checkpoint" in between
    assert between.index("Callback.on_save_checkpoint") < between.index("on_save_checkpoint")
    assert "Callback.state_dict" in between
    assert between.index("Callback.state_dict") < between.index("Callback.on_save_checkpoint")
    assert "dm.state_dict" in between
    assert called.count("on_save_checkpoint") == 1


@pytest.mark.parametrize("fn", ["validate", "test"])
def test_eval_hook_order(tmp_path, fn):
    called, _ = _record(tmp_path, fn, datamodule=True, limit_val_batches=2, limit_test_batches=2)
    noun = "validation" if fn == "validate" else "test"
    loader = "dm.val_dataloader" if fn == "validate" else "dm.test_dataloader"
    expected = [
        "configure_callbacks",
        "dm.prepare_data",
        "prepare_data",
        f"dm.setup:{fn}",
        f"Callback.setup:{fn}",
        f"setup:{fn}",
        "configure_model",
        loader,
        f"on_{noun}_model_eval",
        f"Callback.on_{noun}_start",
        f"on_{noun}_start",
        f"Callback.on_{noun}_epoch_start",
        f"on_{noun}_epoch_start",
        *TRANSFER,
        f"Callback.on_{noun}_batch_start",
        f"on_{noun}_batch_start",
        f"{noun}_step",
        f"Callback.on_{noun}_batch_end",
        f"on_{noun}_batch_end",
        *TRANSFER,
        f"Callback.on_{noun}_batch_start",
        f"on_{noun}_batch_start",
        f"{noun}_step",
        f"Callback.on_{noun}_batch_end",
        f"on_{noun}_batch_end",
        f"Callback.on_{noun}_epoch_end",
        f"on_{noun}_epoch_end",
        f"Callback.on_{noun}_end",
        f"on_{noun}_end",
        f"on_{noun}_model_train",
        f"dm.teardown:{fn}",
        f"Callback.teardown:{fn}",
        f"teardown:{fn}",
    ]
    assert_calls(called, expected)


def test_validate_hook_order_module_dataloader(tmp_path):
    called, _ = _record(tmp_path, "validate", limit_val_batches=1)
    expected = [
        "configure_callbacks", "prepare_data", "Callback.setup:validate", "setup:validate", "configure_model",
        *_eval_run("validation", 1, dataloader="val_dataloader"),
        "Callback.teardown:validate", "teardown:validate",
    ]
    assert_calls(called, expected)


def test_predict_hook_order(tmp_path):
    called, _ = _record(tmp_path, "predict", limit_predict_batches=2)
    batch = [*TRANSFER, "Callback.on_predict_batch_start", "on_predict_batch_start", "predict_step",
             "Callback.on_predict_batch_end", "on_predict_batch_end"]
    expected = [
        "configure_callbacks",
        "prepare_data",
        "Callback.setup:predict",
        "setup:predict",
        "configure_model",
        "predict_dataloader",
        "on_predict_model_eval",
        "Callback.on_predict_start",
        "on_predict_start",
        "Callback.on_predict_epoch_start",
        "on_predict_epoch_start",
        *batch,
        *batch,
        "Callback.on_predict_epoch_end",
        "on_predict_epoch_end",
        "Callback.on_predict_end",
        "on_predict_end",
        "Callback.teardown:predict",
        "teardown:predict",
    ]
    assert_calls(called, expected)


def test_manual_optimization_hook_order(tmp_path):
    """In manual optimization the module's optimizer_step / zero_grad / clipping hooks are not called:
    manual_backward runs the backward hooks, opt.step() runs on_before_optimizer_step, all inside training_step."""
    called, trainer = _record(tmp_path, base=ManualOptimBoringModel, max_epochs=1, limit_train_batches=2,
                              limit_val_batches=0)
    batch = [
        *TRANSFER, "Callback.on_train_batch_start", "on_train_batch_start",
        "Callback.on_before_backward", "on_before_backward", "backward", "Callback.on_after_backward",
        "on_after_backward", "Callback.on_before_optimizer_step", "on_before_optimizer_step",
        "training_step", "Callback.on_train_batch_end", "on_train_batch_end",
    ]
    start = called.index("Callback.on_train_epoch_start")
    end = called.index("Callback.on_train_epoch_end")
    assert_calls(called[start:end], ["Callback.on_train_epoch_start", "on_train_epoch_start", *batch, *batch])
    assert "optimizer_step" not in called
    assert "lr_scheduler_step" not in called  # schedulers are not stepped for you in manual optimization
    assert trainer.global_step == 2


def test_callback_hooks_run_before_module_hooks(tmp_path):
    """For every hook both define, the callback's call comes right before the module's (except the documented
    exception on_train_epoch_end for monitoring callbacks, which the recorder is not)."""
    called, _ = _record(tmp_path, limit_train_batches=2, limit_val_batches=1)
    shared = {c.split(".", 1)[1] for c in called if c.startswith("Callback.")} & set(called)
    assert "on_train_batch_end" in shared and "on_fit_start" in shared
    for i, name in enumerate(called):
        if name in shared:
            assert called[i - 1] == f"Callback.{name}", f"{name} at {i} not preceded by its callback hook"


def test_configure_callbacks_adds_callbacks(tmp_path):
    called = []

    class Model(BoringModel):
        def configure_callbacks(self):
            return [recording_callback(called)]

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(Model())
    assert "Callback.on_fit_start" in called
    assert "Callback.on_train_batch_end" in called
    assert called[-1] == "Callback.teardown:fit"
    assert any(type(cb).__name__.startswith("Recording") for cb in trainer.callbacks)


def test_unoverridden_hooks_do_not_break_a_plain_module(tmp_path):
    """A LightningModule that defines only the required methods fits, validates, tests and predicts."""

    class Minimal(bare_module_class("training_step", "configure_optimizers")):
        def validation_step(self, batch, batch_idx):
            self.log("v", self(batch).sum())

        def test_step(self, batch, batch_idx):
            self.log("t", self(batch).sum())

    model = Minimal()
    trainer = make_trainer(tmp_path)
    trainer.fit(model, random_loader(), random_loader())
    assert trainer.global_step == 4
    assert "v" in trainer.validate(model, random_loader())[0]
    assert "t" in trainer.test(model, random_loader())[0]
    preds = trainer.predict(model, random_loader())
    assert len(preds) == 4 and preds[0].shape == (2, 2)


def test_plateau_scheduler_steps_after_on_train_epoch_end(tmp_path):
    """Metric-based schedulers step once the epoch's metrics are complete: after on_train_epoch_end;
    interval='epoch' schedulers that need no metric step on the last batch, before on_train_batch_end."""
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.step(batch))

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": plateau, "monitor": "val_loss"}}

    called, _ = _record(tmp_path, base=Model, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0)
    tail = called[called.index("Callback.on_train_epoch_end"):]
    assert tail == ["Callback.on_train_epoch_end", "on_train_epoch_end", "lr_scheduler_step",
                    "Callback.on_train_end", "on_train_end", "Callback.on_fit_end", "on_fit_end",
                    "Callback.teardown:fit", "teardown:fit"]
    assert called.count("lr_scheduler_step") == 1


def test_mid_epoch_validation_order(tmp_path):
    """val_check_interval=0.5: validation runs right after the on_train_batch_end of batch 1, inside the epoch."""
    called, _ = _record(tmp_path, limit_train_batches=4, limit_val_batches=1, num_sanity_val_steps=0,
                        val_check_interval=0.5)
    start = called.index("Callback.on_train_epoch_start")
    end = called.index("Callback.on_train_epoch_end")
    expected = [
        "Callback.on_train_epoch_start", "on_train_epoch_start",
        *_train_batch(), *_train_batch(),
        *_eval_run("validation", 1, zero_grad=True),
        *_train_batch(), *_train_batch(sched=True),
        *_eval_run("validation", 1, zero_grad=True),
    ]
    assert_calls(called[start:end], expected)


def test_hook_arguments(tmp_path):
    """What the hooks receive (Lightning 2.x signatures); callbacks written without `dataloader_idx`
    work with a single dataloader, because it is only passed when there are several."""
    seen = {}

    class CB(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.setdefault("cb_train_start", []).append((trainer, pl_module, batch.shape, batch_idx))

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen.setdefault("cb_train_end", []).append((outputs, batch_idx))

        def on_before_backward(self, trainer, pl_module, loss):
            seen["cb_loss"] = loss

        def on_before_optimizer_step(self, trainer, pl_module, optimizer):
            seen["cb_opt"] = optimizer

        def on_before_zero_grad(self, trainer, pl_module, optimizer):
            seen["cb_zero_opt"] = optimizer

        def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.setdefault("cb_val_start", []).append(batch_idx)

        def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen.setdefault("cb_val_end", []).append((outputs, batch_idx))

        def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen.setdefault("cb_pred_end", []).append(outputs)

        def on_train_epoch_end(self, trainer, pl_module):
            seen["cb_epoch_end"] = (trainer, pl_module)

    class Model(BoringModel):
        def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
            seen.setdefault("zero_grad", []).append((epoch, batch_idx))
            super().optimizer_zero_grad(epoch, batch_idx, optimizer)

        def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
            seen.setdefault("step", []).append((epoch, batch_idx, callable(optimizer_closure)))
            super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)

        def on_train_batch_end(self, outputs, batch, batch_idx):
            seen.setdefault("train_end", []).append(batch_idx)

        def on_validation_batch_end(self, outputs, batch, batch_idx):
            seen.setdefault("val_end", []).append(sorted(outputs))

    model = Model()
    trainer = make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=2, num_sanity_val_steps=0,
                           callbacks=[CB()])
    trainer.fit(model, random_loader(length=4), random_loader(length=4))
    trainer.predict(model, random_loader(length=4))

    assert [(t is trainer, m is model, shape, i) for t, m, shape, i in seen["cb_train_start"]] == [
        (True, True, (2, 32), 0), (True, True, (2, 32), 1)]
    for outputs, _ in seen["cb_train_end"]:
        assert set(outputs) == {"loss"} and isinstance(outputs["loss"], torch.Tensor)
    assert [i for _, i in seen["cb_train_end"]] == [0, 1]
    assert isinstance(seen["cb_loss"], torch.Tensor) and seen["cb_loss"].requires_grad
    assert seen["cb_opt"] is trainer.optimizers[0] or seen["cb_opt"].optimizer is trainer.optimizers[0]
    assert seen["cb_zero_opt"] is trainer.optimizers[0] or seen["cb_zero_opt"].optimizer is trainer.optimizers[0]
    assert seen["zero_grad"] == [(0, 0), (0, 1)]
    assert seen["step"] == [(0, 0, True), (0, 1, True)]
    assert seen["train_end"] == [0, 1]
    assert seen["cb_val_start"] == [0, 1]
    assert [sorted(o) for o, _ in seen["cb_val_end"]] == [["x"], ["x"]]  # BoringModel.validation_step's return
    assert seen["val_end"] == [["x"], ["x"]]
    assert all(isinstance(o, torch.Tensor) and o.shape == (2, 2) for o in seen["cb_pred_end"])
    assert seen["cb_epoch_end"] == (trainer, model)


def test_on_train_batch_start_returning_minus_one_skips_the_rest_of_the_epoch(tmp_path):
    class Model(BoringModel):
        def __init__(self):
            super().__init__()
            self.steps = []

        def on_train_batch_start(self, batch, batch_idx):
            if batch_idx == 2:
                return -1

        def training_step(self, batch, batch_idx):
            self.steps.append((self.current_epoch, batch_idx))
            return super().training_step(batch, batch_idx)

    model = Model()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=4, limit_val_batches=0)
    trainer.fit(model)
    assert model.steps == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert trainer.global_step == 4
    assert trainer.current_epoch == 2


def test_module_properties_follow_the_trainer(tmp_path):
    seen = []

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            seen.append((self.global_step, self.current_epoch, self.trainer.global_step, self.device.type))
            return super().training_step(batch, batch_idx)

    make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=0).fit(Model())
    assert seen == [(0, 0, 0, "cpu"), (1, 0, 1, "cpu"), (2, 1, 2, "cpu"), (3, 1, 3, "cpu")]
