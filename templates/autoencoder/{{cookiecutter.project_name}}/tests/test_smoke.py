"""The project's own tests: shapes, a fast_dev_run fit, a short run, and the default config's target."""
import pytest

from {{ cookiecutter.package_name }}.datamodule import AutoencoderDataModule
from {{ cookiecutter.package_name }}.module import AutoencoderModule

TARGET_REL_ERROR = 0.10  # reconstruction error under 10% of the data's variance


def test_shapes(default_config):
    model = AutoencoderModule(**default_config["model"])
    data = AutoencoderDataModule(**default_config["data"])
    data.setup("fit")
    (x,) = next(iter(data.train_dataloader()))
    assert x.shape == (data.hparams.batch_size, model.hparams.num_features)
    assert model.encoder(x).shape == (len(x), model.hparams.latent_dim)
    assert model(x).shape == x.shape


def test_fast_dev_run(cli):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished


def test_short_run_writes_checkpoint_and_metrics(cli, tmp_path):
    run = cli("fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=5", "--trainer.limit_val_batches=2")
    assert "val_rel_error" in run.trainer.callback_metrics
    assert list(tmp_path.rglob("*.ckpt")), "no checkpoint written"


@pytest.mark.slow
def test_default_config_reaches_target(cli, default_config):
    if default_config["data"].get("data_path"):
        pytest.skip("the target is stated for the synthetic data")
    run = cli("fit")
    rel_error = float(run.trainer.callback_metrics["val_rel_error"])
    assert rel_error < TARGET_REL_ERROR, f"val_rel_error {rel_error:.3f} >= {TARGET_REL_ERROR}"
