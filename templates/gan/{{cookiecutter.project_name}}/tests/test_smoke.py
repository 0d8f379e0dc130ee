"""The project's own tests: shapes, a fast_dev_run fit, a short run, and the default config's target."""
import pytest
import torch

from {{ cookiecutter.package_name }}.datamodule import GANDataModule
from {{ cookiecutter.package_name }}.module import GANModule, sample_gaps

TARGET_GAP = 0.25  # generated mean and spread within a quarter of the data's standard deviation


def test_shapes(default_config):
    model = GANModule(**default_config["model"])
    data = GANDataModule(**default_config["data"])
    data.setup("fit")
    (real,) = next(iter(data.train_dataloader()))
    assert real.shape == (data.hparams.batch_size, model.hparams.num_features)
    assert model.sample(5).shape == (5, model.hparams.num_features)
    assert model.discriminator(real).shape == (len(real), 1)


def test_fast_dev_run_steps_both_optimizers(cli):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished
    assert run.trainer.global_step == 2  # manual optimization counts optimizer steps: one each


def test_short_run_writes_checkpoint_and_metrics(cli, tmp_path):
    run = cli("fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=5", "--trainer.limit_val_batches=2")
    assert {"val_mean_gap", "val_std_gap", "d_loss", "g_loss"} <= set(run.trainer.callback_metrics)
    assert list(tmp_path.rglob("*.ckpt")), "no checkpoint written"


@pytest.mark.slow
def test_default_config_reaches_target(cli, default_config):
    if default_config["data"].get("data_path"):
        pytest.skip("the target is stated for the synthetic data")
    run = cli("fit")
    data = run.datamodule
    real = torch.cat([batch[0] for batch in data.val_dataloader()])
    with torch.no_grad():
        gaps = sample_gaps(real, run.model.sample(len(real)).cpu())
    assert gaps["mean_gap"] <= TARGET_GAP and gaps["std_gap"] <= TARGET_GAP, gaps
