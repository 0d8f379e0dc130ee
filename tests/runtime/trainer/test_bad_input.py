"""Wrong input fails at once with one clear message: the bad value, what is allowed, the nearest valid name."""
import re

import pytest
import torch

from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import ConfModel, bare_module_class, make_trainer, random_loader

FLAG_ERRORS = (MisconfigurationException, ValueError, TypeError)


# ------------------------------------------------------------------ Trainer flags
def test_unknown_accelerator(tmp_path):
    with pytest.raises(FLAG_ERRORS) as err:
        make_trainer(tmp_path, accelerator="cpux")
    msg = str(err.value)
    assert "cpux" in msg
    for allowed in ("cpu", "cuda", "gpu", "mps", "auto"):
        assert allowed in msg, allowed


def test_unknown_accelerator_suggests_nearest(tmp_path):
    with pytest.raises(FLAG_ERRORS, match=r"(?i)did you mean.*cuda|cuda.*\?"):
        make_trainer(tmp_path, accelerator="cdua")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("accelerator", ["cuda", "gpu"])
def test_unavailable_accelerator(tmp_path, accelerator):
    with pytest.raises(FLAG_ERRORS, match="cpu"):
        make_trainer(tmp_path, accelerator=accelerator)


@pytest.mark.parametrize("precision", ["33", 33, "fp32", "bf16-mix"])
def test_unknown_precision(tmp_path, precision):
    with pytest.raises(FLAG_ERRORS) as err:
        make_trainer(tmp_path, precision=precision)
    msg = str(err.value)
    assert str(precision) in msg
    for allowed in ("32-true", "64-true", "16-mixed", "bf16-mixed", "bf16-true"):
        assert allowed in msg, allowed


def test_unknown_precision_suggests_nearest(tmp_path):
    with pytest.raises(FLAG_ERRORS, match=r"(?i)did you mean.*bf16-mixed"):
        make_trainer(tmp_path, precision="bf16-mix")


@pytest.mark.parametrize("devices", [-2, 0, "-3"])
def test_bad_devices(tmp_path, devices):
    with pytest.raises(FLAG_ERRORS, match="devices"):
        make_trainer(tmp_path, accelerator="cpu", devices=devices)


def test_devices_not_a_number(tmp_path):
    with pytest.raises(FLAG_ERRORS, match="devices"):
        make_trainer(tmp_path, accelerator="cpu", devices="banana")


@pytest.mark.parametrize("name", ["limit_train_batches", "limit_val_batches", "limit_test_batches",
                                  "limit_predict_batches", "val_check_interval", "overfit_batches"])
def test_fraction_above_one(tmp_path, name):
    with pytest.raises(FLAG_ERRORS) as err:
        make_trainer(tmp_path, **{name: 1.5})
    assert "1.5" in str(err.value) and name in str(err.value)


@pytest.mark.parametrize("name", ["limit_train_batches", "limit_val_batches"])
def test_negative_limit(tmp_path, name):
    with pytest.raises(FLAG_ERRORS, match=name):
        make_trainer(tmp_path, **{name: -1})


@pytest.mark.parametrize(
    ("kwargs", "suggestion"),
    [
        ({"max_epoch": 3}, "max_epochs"),
        ({"acelerator": "cpu"}, "accelerator"),
        ({"gradient_clip_vals": 1.0}, "gradient_clip_val"),
        ({"limit_train_batch": 2}, "limit_train_batches"),
    ],
)
def test_misspelt_trainer_argument(tmp_path, kwargs, suggestion):
    with pytest.raises(FLAG_ERRORS) as err:
        make_trainer(tmp_path, **kwargs)
    msg = str(err.value)
    assert list(kwargs)[0] in msg
    assert re.search(rf"\b{suggestion}\b", msg), f"no suggestion {suggestion!r} in: {msg}"


def test_unknown_gradient_clip_algorithm(tmp_path):
    with pytest.raises(FLAG_ERRORS) as err:
        make_trainer(tmp_path, gradient_clip_val=1.0, gradient_clip_algorithm="nrm")
    msg = str(err.value)
    assert "nrm" in msg and "norm" in msg and "value" in msg


def test_negative_max_epochs_other_than_minus_one(tmp_path):
    with pytest.raises(FLAG_ERRORS, match="max_epochs"):
        make_trainer(tmp_path, max_epochs=-2)


def test_val_check_interval_larger_than_epoch(tmp_path):
    trainer = make_trainer(tmp_path, val_check_interval=10, limit_train_batches=4, limit_val_batches=1)
    with pytest.raises(FLAG_ERRORS, match="val_check_interval"):
        trainer.fit(BoringModel())


def test_bad_max_time(tmp_path):
    with pytest.raises(FLAG_ERRORS, match="max_time"):
        make_trainer(tmp_path, max_time="soon")


# ------------------------------------------------------------------ what the module returns
def test_training_step_returning_a_string(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            return "loss"

    with pytest.raises(MisconfigurationException) as err:
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())
    msg = str(err.value)
    assert "training_step" in msg and "Tensor" in msg and "None" in msg


def test_training_step_dict_without_loss(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            return {"los": self.step(batch)}

    with pytest.raises(MisconfigurationException, match="loss"):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


def test_training_step_returning_a_non_scalar_loss(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            return self(batch)  # shape (batch, 2)

    with pytest.raises((MisconfigurationException, RuntimeError, ValueError), match=r"(?i)scalar|single|loss"):
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())


@pytest.mark.parametrize(
    "conf",
    [
        lambda m: "adam",
        lambda m: 42,
        lambda m: {"optimiser": torch.optim.SGD(m.parameters(), lr=0.1)},
        lambda m: [torch.optim.SGD(m.parameters(), lr=0.1), "x"],
    ],
    ids=["string", "int", "dict_misspelt_key", "list_with_junk"],
)
def test_configure_optimizers_junk(tmp_path, conf):
    with pytest.raises(MisconfigurationException, match="configure_optimizers"):
        make_trainer(tmp_path, limit_train_batches=1).fit(ConfModel(conf))


def test_configure_optimizers_dict_misspelt_key_suggests_optimizer(tmp_path):
    with pytest.raises(MisconfigurationException) as err:
        make_trainer(tmp_path, limit_train_batches=1).fit(
            ConfModel(lambda m: {"optimiser": torch.optim.SGD(m.parameters(), lr=0.1)})
        )
    assert "optimiser" in str(err.value) and "'optimizer'" in str(err.value).replace('"', "'").replace("`", "'")


def test_scheduler_bad_interval(tmp_path):
    def conf(m):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1),
                                                    "interval": "batch"}}

    with pytest.raises(MisconfigurationException) as err:
        make_trainer(tmp_path, limit_train_batches=1).fit(ConfModel(conf))
    msg = str(err.value)
    assert "batch" in msg and "step" in msg and "epoch" in msg


def test_scheduler_config_without_scheduler_key(tmp_path):
    def conf(m):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        return {"optimizer": opt, "lr_scheduler": {"interval": "step"}}

    with pytest.raises(MisconfigurationException, match="scheduler"):
        make_trainer(tmp_path, limit_train_batches=1).fit(ConfModel(conf))


def test_reduce_lr_on_plateau_without_monitor(tmp_path):
    def conf(m):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        return [opt], [torch.optim.lr_scheduler.ReduceLROnPlateau(opt)]

    with pytest.raises(MisconfigurationException, match="monitor"):
        make_trainer(tmp_path, limit_train_batches=1).fit(ConfModel(conf))


def test_reduce_lr_on_plateau_monitor_not_logged(tmp_path):
    class Model(ConfModel):
        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.step(batch))

    def conf(m):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_los"}}

    with pytest.raises(MisconfigurationException) as err:
        make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1).fit(Model(conf))
    msg = str(err.value)
    assert "val_los" in msg and "val_loss" in msg  # the missing name and what is available


def test_several_optimizers_message_names_the_fix(tmp_path):
    def conf(m):
        return [torch.optim.SGD(m.parameters(), lr=0.1), torch.optim.Adam(m.parameters())]

    with pytest.raises((MisconfigurationException, RuntimeError)) as err:
        make_trainer(tmp_path, limit_train_batches=1).fit(ConfModel(conf))
    msg = str(err.value)
    assert "automatic_optimization" in msg and "self.optimizers()" in msg


# ------------------------------------------------------------------ missing data / hooks
def test_fit_without_train_data(tmp_path):
    model = bare_module_class("training_step", "configure_optimizers")()
    with pytest.raises((MisconfigurationException, TypeError, ValueError), match="train_dataloader"):
        make_trainer(tmp_path).fit(model)


@pytest.mark.parametrize(("missing", "present"), [("training_step", "configure_optimizers"),
                                                  ("configure_optimizers", "training_step")])
def test_fit_without_a_required_hook(tmp_path, missing, present):
    with pytest.raises(MisconfigurationException, match=missing):
        make_trainer(tmp_path).fit(bare_module_class(present)(), random_loader())


@pytest.mark.parametrize(("fn", "hook"), [("validate", "validation_step"), ("test", "test_step")])
def test_eval_without_step(tmp_path, fn, hook):
    with pytest.raises(MisconfigurationException, match=hook):
        getattr(make_trainer(tmp_path), fn)(bare_module_class()(), random_loader())


def test_invalid_dataloader_object(tmp_path):
    with pytest.raises((MisconfigurationException, TypeError), match=r"(?i)dataloader"):
        make_trainer(tmp_path).fit(BoringModel(), train_dataloaders=42)


def test_fit_with_something_that_is_not_a_lightning_module(tmp_path):
    with pytest.raises((MisconfigurationException, TypeError), match="LightningModule"):
        make_trainer(tmp_path).fit(torch.nn.Linear(2, 2), random_loader())


def test_bad_callback_type(tmp_path):
    with pytest.raises(FLAG_ERRORS, match=r"(?i)callback"):
        make_trainer(tmp_path, callbacks=[object()])
