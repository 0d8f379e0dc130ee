"""The project's own tests: shapes, a fast_dev_run fit, a short run, and the default config's target."""
import pytest
import torch

from {{ cookiecutter.package_name }}.datamodule import ClassifierDataModule
from {{ cookiecutter.package_name }}.module import ClassifierModule

TARGET_VAL_ACC = 0.95


def test_shapes(default_config):
    model = ClassifierModule(**default_config["model"])
    data = ClassifierDataModule(**default_config["data"])
    data.setup("fit")
    x, y = next(iter(data.train_dataloader()))
    assert x.shape == (data.hparams.batch_size, model.hparams.num_features)
    assert model(x).shape == (len(x), model.hparams.num_classes)
    assert y.dtype == torch.long and int(y.max()) < model.hparams.num_classes


def test_fast_dev_run(cli):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished


def test_short_run_writes_checkpoint_and_metrics(cli, tmp_path):
    run = cli("fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=5", "--trainer.limit_val_batches=2")
    assert "val_acc" in run.trainer.callback_metrics
    assert list(tmp_path.rglob("*.ckpt")), "no checkpoint written"


@pytest.mark.slow
def test_default_config_reaches_target(cli, default_config):
    if default_config["data"].get("data_path"):
        pytest.skip("the accuracy target is stated for the synthetic data")
    run = cli("fit")
    val_acc = float(run.trainer.callback_metrics["val_acc"])
    assert val_acc >= TARGET_VAL_ACC, f"val_acc {val_acc:.3f} < {TARGET_VAL_ACC}"
