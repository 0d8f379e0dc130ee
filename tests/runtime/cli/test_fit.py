"""Real runs through LightningCLI: fit / validate / test / predict, the saved config.yaml, seeding, hooks."""
import os

import pytest
import torch
import yaml

from runtime.cli import LightningCLI, SaveConfigCallback
from runtime.demos.boring_classes import BoringDataModule, BoringModel
from tests.runtime.cli.helpers import FAST, toy_cli
from tests.runtime.cli.toy import ToyData, ToyModel


def test_fit_boring_model(tmp_path):
    cli = LightningCLI(BoringModel, BoringDataModule, args=["fit", *FAST])
    assert isinstance(cli.model, BoringModel) and isinstance(cli.datamodule, BoringDataModule)
    assert cli.subcommand == "fit"
    assert cli.trainer.global_step == 2 and cli.trainer.current_epoch == 1
    assert cli.config.fit.trainer.max_epochs == 1 and cli.config["fit"]["trainer"]["limit_train_batches"] == 2
    assert cli.config["fit.trainer.enable_progress_bar"] is False
    log_dir = tmp_path / "lightning_logs" / "version_0"
    assert cli.trainer.log_dir == str(log_dir)
    saved = yaml.safe_load((log_dir / "config.yaml").read_text())
    assert list(saved)[:2] == ["seed_everything", "trainer"]  # BoringModel and its data take no arguments
    assert saved["trainer"]["max_epochs"] == 1 and saved["ckpt_path"] is None
    # seed_everything=True picks a seed and records it, so the saved config repeats the run
    assert isinstance(saved["seed_everything"], int) and not isinstance(saved["seed_everything"], bool)
    assert saved["seed_everything"] == cli.config.fit.seed_everything == int(os.environ["PL_GLOBAL_SEED"])


def test_hyperparameters_reach_the_model_and_saved_config_repeats_the_run(tmp_path):
    cli = toy_cli("fit", *FAST, "--model.hidden=3", "--model.lr", "0.05", "--model.activation=tanh",
                  "--model.widths=[2, 2]", "--data.batch_size=2", "--seed_everything=7")
    assert cli.model.hparams.hidden == 3 and cli.model.hparams.lr == 0.05 and cli.model.hparams.widths == [2, 2]
    assert isinstance(cli.model.net[1], torch.nn.Tanh) and cli.datamodule.batch_size == 2
    first = {k: v.clone() for k, v in cli.model.state_dict().items()}
    saved_path = tmp_path / "lightning_logs" / "version_0" / "config.yaml"
    saved = yaml.safe_load(saved_path.read_text())
    assert saved["seed_everything"] == 7
    assert saved["model"] == {"hidden": 3, "lr": 0.05, "activation": "tanh", "dropout": None, "widths": [2, 2],
                              "name": "toy", "out_dir": None, "num_features": 4}
    assert saved["data"] == {"batch_size": 2, "size": 16, "num_features": 4}

    again = toy_cli("fit", "--config", str(saved_path))
    assert again.trainer.log_dir.endswith("version_1")  # a new run folder, so nothing is overwritten
    assert yaml.safe_load((tmp_path / "lightning_logs" / "version_1" / "config.yaml").read_text()) == saved
    for k, v in again.model.state_dict().items():  # same seed, same data, same steps: same weights
        torch.testing.assert_close(v, first[k])


@pytest.mark.filterwarnings("ignore:.*exists and is not empty")  # the same log folder on purpose
def test_save_config_refuses_to_overwrite_unless_asked(tmp_path):
    args = ["fit", *FAST, "--trainer.logger={class_path: CSVLogger, init_args: {save_dir: logs, version: fixed}}"]
    toy_cli(*args)
    path = tmp_path / "logs" / "lightning_logs" / "fixed" / "config.yaml"
    assert path.is_file()
    with pytest.raises(RuntimeError, match="expected .*config.yaml to NOT exist"):
        toy_cli(*args, "--trainer.max_epochs=2")
    toy_cli(*args, "--trainer.max_epochs=2", save_config_kwargs={"overwrite": True})
    assert yaml.safe_load(path.read_text())["trainer"]["max_epochs"] == 2


def test_no_config_saved_when_disabled_or_fast_dev_run(tmp_path):
    toy_cli("fit", *FAST, save_config_callback=None)
    assert not (tmp_path / "lightning_logs" / "version_0" / "config.yaml").exists()
    cli = toy_cli("fit", "--trainer.fast_dev_run=true", "--trainer.enable_progress_bar=false")
    assert not any(isinstance(cb, SaveConfigCallback) for cb in cli.trainer.callbacks)


def test_validate_test_predict_from_a_checkpoint(tmp_path):
    fit = toy_cli("fit", *FAST)
    ckpt = fit.trainer.checkpoint_callback.best_model_path
    assert os.path.isfile(ckpt)
    quiet = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.limit_val_batches=1",
             "--trainer.limit_test_batches=1", "--trainer.limit_predict_batches=1", "--trainer.logger=false"]
    validate = toy_cli("validate", *quiet, "--ckpt_path", ckpt, "--verbose=false", save_config_callback=None)
    assert validate.subcommand == "validate" and "val_loss" in validate.trainer.callback_metrics
    test = toy_cli("test", *quiet, f"--ckpt_path={ckpt}", save_config_callback=None)
    assert "test_loss" in test.trainer.callback_metrics
    predict = toy_cli("predict", *quiet, save_config_callback=None)
    assert predict.config.predict.return_predictions is None


def test_hooks_and_run_false(tmp_path):
    calls = []

    class MyCLI(LightningCLI):
        def before_instantiate_classes(self):
            calls.append("before_instantiate")

        def after_instantiate_classes(self):
            calls.append("after_instantiate")

        def before_fit(self):
            calls.append(f"before_fit:{self.trainer.global_step}")

        def after_fit(self):
            calls.append(f"after_fit:{self.trainer.global_step}")

    MyCLI(ToyModel, ToyData, args=["fit", *FAST])
    assert calls == ["before_instantiate", "after_instantiate", "before_fit:0", "after_fit:2"]

    cli = LightningCLI(ToyModel, ToyData, run=False, args=FAST + ["--model.hidden=5", "--seed_everything=false"])
    assert cli.subcommand is None and cli.trainer.global_step == 0 and cli.model.hparams.hidden == 5
    assert cli.config.trainer.limit_train_batches == 2 and cli.config.seed_everything is False
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert cli.trainer.global_step == 2


def test_args_as_a_dict_and_trainer_defaults():
    cli = LightningCLI(ToyModel, ToyData, run=False, trainer_defaults={"max_epochs": 3, "enable_progress_bar": False},
                       args={"model": {"hidden": 6}, "trainer": {"limit_train_batches": 1}})
    assert cli.trainer.max_epochs == 3 and cli.model.hparams.hidden == 6 and cli.trainer.limit_train_batches == 1
    # with subcommands the dict holds the subcommand's section
    cli = LightningCLI(ToyModel, ToyData, args={"fit": {"trainer": {"max_epochs": 1, "limit_train_batches": 1,
                                                                     "limit_val_batches": 1, "enable_progress_bar": False}}})
    assert cli.subcommand == "fit" and cli.trainer.global_step == 1
