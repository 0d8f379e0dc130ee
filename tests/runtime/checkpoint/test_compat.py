"""Checkpoints cross between Lightning and the runtime: Lightning's file (fixtures/, made by
make_lightning_fixture.py with Lightning 2.6.6) loads and resumes here, and ours has Lightning's keys
(and, where Lightning is installed, resumes there)."""
import importlib.util
from pathlib import Path

import pytest
import torch

import runtime as pl

from tests.runtime.checkpoint.fixture_model import fixture_model_class, lightning_trainer, loader
from tests.runtime.helpers import make_trainer

FIXTURE = Path(__file__).with_name("fixtures") / "lightning_2_6.ckpt"
LIGHTNING_KEYS = {"epoch", "global_step", "pytorch-lightning_version", "state_dict", "loops", "callbacks",
                  "optimizer_states", "lr_schedulers", "hparams_name", "hyper_parameters"}
FixtureModel = fixture_model_class(pl)


def test_lightning_checkpoint_loads_with_weights_only():
    raw = torch.load(FIXTURE, weights_only=False)
    model = FixtureModel.load_from_checkpoint(FIXTURE)  # weights_only=True by default
    assert model.hparams.hidden == 5 and model.hparams.lr == 0.1
    for k, v in raw["state_dict"].items():
        assert torch.equal(model.state_dict()[k], v)


def test_lightning_checkpoint_resumes_training(tmp_path):
    raw = torch.load(FIXTURE, weights_only=False)
    trainer = make_trainer(tmp_path, max_epochs=3)
    model = FixtureModel(hidden=5)
    trainer.fit(model, loader(), ckpt_path=str(FIXTURE))
    # Lightning finished epochs 0 and 1 (4 steps); one more epoch of 2 steps runs here
    assert trainer.current_epoch == 3 and trainer.global_step == 6
    # the momentum buffers and the StepLR state came from the file: lr decayed twice there, once more here
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.1 * 0.1**3)
    assert raw["lr_schedulers"][0]["last_epoch"] == 2


def test_our_checkpoint_has_lightning_keys_and_loads_weights_only(tmp_path):
    trainer = make_trainer(tmp_path, max_epochs=1)
    trainer.fit(FixtureModel(hidden=5), loader())
    path = tmp_path / "ours.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    assert LIGHTNING_KEYS <= set(ckpt)
    fit = ckpt["loops"]["fit_loop"]
    assert fit["epoch_progress"]["current"]["completed"] == 1
    assert fit["epoch_loop.state_dict"]["_batches_that_stepped"] == 2
    assert fit["epoch_loop.automatic_optimization.optim_progress"]["optimizer"]["step"]["total"]["completed"] == 2
    assert ckpt["hyper_parameters"] == {"hidden": 5, "lr": 0.1} and ckpt["hparams_name"] == "kwargs"


def test_compiled_model_saves_clean_keys(tmp_path):
    model = FixtureModel(hidden=5)
    trainer = make_trainer(tmp_path, max_epochs=1)
    trainer.fit(model, loader())
    model.net = torch.compile(model.net, backend="eager")  # wraps: keys gain `_orig_mod.`
    assert any("_orig_mod." in k for k in model.state_dict())
    trainer.save_checkpoint(tmp_path / "c.ckpt")
    keys = torch.load(tmp_path / "c.ckpt", weights_only=True)["state_dict"].keys()
    assert not any("_orig_mod." in k for k in keys)
    FixtureModel.load_from_checkpoint(tmp_path / "c.ckpt")


@pytest.mark.skipif(
    importlib.util.find_spec("pytorch_lightning") is None and importlib.util.find_spec("lightning") is None,
    reason="Lightning is not installed (checked by hand with Lightning 2.6.6, see the issue note)",
)
def test_our_checkpoint_resumes_in_lightning(tmp_path):
    try:
        import lightning.pytorch as L
    except ImportError:
        import pytorch_lightning as L

    trainer = make_trainer(tmp_path, max_epochs=1)
    trainer.fit(FixtureModel(hidden=5), loader())
    path = tmp_path / "ours.ckpt"
    trainer.save_checkpoint(path)

    lt = lightning_trainer(L, max_epochs=2)
    lt.fit(fixture_model_class(L)(hidden=5), loader(), ckpt_path=str(path))
    assert lt.current_epoch == 2 and lt.global_step == 4
