"""Hook-order details where Lightning 2.x (its ``models/test_hooks.py``) is the spec: ``zero_grad`` on the
module before any loop, clipping hooks called by keyword, a resumed fit restoring weights and callback
states before ``configure_optimizers``, an epoch cut short by max_steps resumed at its next batch without
``on_train_epoch_start``, evaluation with 0 batches running nothing, submodule train/eval modes restored
after evaluation unless ``on_*_model_train`` is overridden, and a datamodule's wrapped (not overridden)
transfer hooks left to the module."""
from functools import partial, update_wrapper

import torch

from runtime import Callback
from runtime.demos.boring_classes import BoringDataModule, BoringModel

from tests.runtime.helpers import make_trainer


class Recorder(BoringModel):
    def __init__(self):
        super().__init__()
        self.called = []

    def zero_grad(self, *args, **kwargs):
        self.called.append(("zero_grad", args, kwargs))
        super().zero_grad(*args, **kwargs)

    def on_fit_start(self):
        self.called.append(("on_fit_start",))

    def configure_optimizers(self):
        self.called.append(("configure_optimizers",))
        return super().configure_optimizers()

    def on_load_checkpoint(self, checkpoint):
        self.called.append(("on_load_checkpoint",))

    def configure_gradient_clipping(self, optimizer, *args, **kwargs):
        self.called.append(("configure_gradient_clipping", args, kwargs))

    def on_train_epoch_start(self):
        self.called.append(("on_train_epoch_start", self.current_epoch))

    def training_step(self, batch, batch_idx):
        self.called.append(("training_step", self.current_epoch, batch_idx))
        return super().training_step(batch, batch_idx)


def _names(called):
    return [c[0] for c in called]


def test_zero_grad_before_the_loops_and_clipping_by_keyword(tmp_path):
    model = Recorder()
    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(model)
    names = _names(model.called)
    assert names[:3] == ["configure_optimizers", "on_fit_start", "zero_grad"]
    assert model.called[2] == ("zero_grad", (), {})
    clip = next(c for c in model.called if c[0] == "configure_gradient_clipping")
    assert clip[1] == () and clip[2] == {"gradient_clip_val": None, "gradient_clip_algorithm": None}


class StateCallback(Callback):
    def __init__(self, called):
        self.called = called

    def state_dict(self):
        return {"foo": True}

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        self.called.append(("Callback.on_load_checkpoint",))

    def load_state_dict(self, state_dict):
        self.called.append(("Callback.load_state_dict",))


def test_resume_restores_weights_and_callbacks_before_configure_optimizers(tmp_path):
    first = make_trainer(tmp_path, max_epochs=1, limit_train_batches=2, limit_val_batches=0, enable_checkpointing=True,
                         callbacks=[StateCallback([])])
    first.fit(BoringModel())
    model = Recorder()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=0,
                           callbacks=[StateCallback(model.called)])
    trainer.fit(model, ckpt_path=first.checkpoint_callback.best_model_path)
    assert _names(model.called)[:6] == ["on_load_checkpoint", "Callback.on_load_checkpoint", "Callback.load_state_dict",
                                        "configure_optimizers", "on_fit_start", "zero_grad"]


def test_epoch_cut_short_by_max_steps_resumes_at_its_next_batch(tmp_path):
    first = make_trainer(tmp_path, max_epochs=None, max_steps=1, limit_train_batches=4, limit_val_batches=0,
                         enable_checkpointing=True)
    first.fit(BoringModel())
    model = Recorder()
    trainer = make_trainer(tmp_path, max_epochs=None, max_steps=3, limit_train_batches=4, limit_val_batches=0)
    trainer.fit(model, ckpt_path=first.checkpoint_callback.best_model_path)
    steps = [c for c in model.called if c[0] in ("training_step", "on_train_epoch_start")]
    assert steps == [("training_step", 0, 1), ("training_step", 0, 2)]


def test_evaluation_with_no_batches_runs_nothing(tmp_path):
    class Model(BoringModel):
        def val_dataloader(self):
            raise AssertionError("asked for a loader with limit_val_batches=0")

    assert make_trainer(tmp_path, limit_val_batches=0).validate(Model(), verbose=False) == []


class Frozen(BoringModel):
    def __init__(self):
        super().__init__()
        self.frozen = torch.nn.Linear(2, 2)
        self.frozen.eval()
        self.modes = []

    def training_step(self, batch, batch_idx):
        self.modes.append(("train", self.layer.training, self.frozen.training))
        return super().training_step(batch, batch_idx)


def test_submodule_modes_come_back_after_evaluation(tmp_path):
    model = Frozen()
    trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=1, val_check_interval=1)
    trainer.fit(model)
    assert model.modes == [("train", True, False)] * 3
    trainer.predict(model, dataloaders=trainer.val_dataloaders)
    assert model.layer.training and not model.frozen.training


def test_on_validation_model_train_runs_only_when_overridden(tmp_path):
    class Model(Frozen):
        def on_validation_model_train(self):
            self.modes.append("hook")
            self.train()

    model = Model()
    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0).fit(model)
    assert "hook" in model.modes and model.frozen.training  # the user's hook decides: here everything trains


def test_wrapped_datamodule_transfer_hooks_are_not_overrides(tmp_path):
    called = []

    class DM(BoringDataModule):
        def __init__(self):
            super().__init__()
            for name in ("on_before_batch_transfer", "on_after_batch_transfer"):
                original = getattr(self, name)

                def record(fn, *args, name=name):
                    called.append(name)
                    return fn(*args)

                wrapper = partial(record, original)
                update_wrapper(wrapper, original)
                setattr(self, name, wrapper)

    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(BoringModel(), datamodule=DM())
    assert called == []


def test_a_mock_callback_receives_every_hook(tmp_path):
    """Lightning calls every hook of every callback; skipping a hook nobody overrides must not skip a Mock's."""
    from unittest.mock import Mock

    from runtime import Callback

    cb = Mock(spec=Callback)
    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1, callbacks=[cb]).fit(BoringModel())
    names = [c[0] for c in cb.method_calls]
    for hook in ("setup", "on_fit_start", "on_train_batch_end", "on_validation_batch_end", "on_train_epoch_end", "teardown"):
        assert hook in names


def test_resume_past_max_epochs_is_an_error(tmp_path):
    import pytest

    from runtime.utilities.exceptions import MisconfigurationException

    first = make_trainer(tmp_path, max_epochs=3, limit_train_batches=1, limit_val_batches=0, enable_checkpointing=True)
    first.fit(BoringModel())
    again = make_trainer(tmp_path, max_epochs=1, limit_train_batches=1, limit_val_batches=0)
    with pytest.raises(MisconfigurationException, match=r"current_epoch=2, but you have set Trainer\(max_epochs=1\)"):
        again.fit(BoringModel(), ckpt_path=first.checkpoint_callback.best_model_path)


def test_load_from_checkpoint_builds_configure_model_layers_before_the_weights(tmp_path):
    class Lazy(BoringModel):
        def __init__(self, width=4):
            super().__init__()
            self.save_hyperparameters()
            self.head = None
            self.seen = None

        def configure_model(self):
            if self.head is None:
                self.head = torch.nn.Linear(2, self.hparams.width)

        def on_load_checkpoint(self, checkpoint):
            self.seen = dict(checkpoint["hyper_parameters"])

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0, enable_checkpointing=True)
    model = Lazy(width=3)
    trainer.fit(model)
    loaded = Lazy.load_from_checkpoint(trainer.checkpoint_callback.best_model_path, width=3)
    assert torch.equal(loaded.head.weight, model.head.weight)
    assert loaded.seen == {"width": 3}
