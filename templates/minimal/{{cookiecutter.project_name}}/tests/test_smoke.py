"""The project's own tests: shapes, a fast_dev_run fit, and a short run that learns."""
from {{ cookiecutter.package_name }}.datamodule import MinimalDataModule
from {{ cookiecutter.package_name }}.module import MinimalModule


def test_shapes(default_config):
    model = MinimalModule(**default_config["model"])
    data = MinimalDataModule(**default_config["data"])
    data.setup("fit")
    x, y = next(iter(data.train_dataloader()))
    assert model(x).shape == y.shape == (len(x),)


def test_fast_dev_run(cli):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished


def test_default_config_trains(cli, tmp_path, default_config):
    run = cli("fit")
    assert list(tmp_path.rglob("*.ckpt")), "no checkpoint written"
    if not default_config["data"].get("data_path"):
        assert float(run.trainer.callback_metrics["val_loss"]) < 0.1  # the noise alone gives 0.01
