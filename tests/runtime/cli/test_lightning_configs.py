"""The LightningCLI usages that Lightning's tests and docs exercise (tests/tests_pytorch/test_cli.py,
docs/source-pytorch/cli/*), as our own tests: the same arguments and configs, class paths renamed from
``lightning.pytorch`` to ``runtime``, so a config written for Lightning is shown to run here."""
import json
import os
from pathlib import Path

import pytest
import torch
import yaml
from jsonargparse import lazy_instance

from runtime import LightningModule
from runtime.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from runtime.cli import LightningCLI, LRSchedulerTypeTuple, instantiate_class
from runtime.demos.boring_classes import BoringDataModule, BoringModel
from runtime.loggers import CSVLogger


def renamed(text: str) -> str:
    return text.replace("lightning.pytorch.", "runtime.")


class DataDirDataModule(BoringDataModule):
    def __init__(self, data_dir):
        super().__init__()


def test_lightning_cli_args(tmp_path):
    cli = LightningCLI(BoringModel, DataDirDataModule, args=[
        "fit", "--data.data_dir=.", "--trainer.max_epochs=1", "--trainer.limit_train_batches=1",
        "--trainer.limit_val_batches=0", "--trainer.enable_model_summary=False", "--trainer.logger=False",
        "--seed_everything=1234", "--trainer.enable_progress_bar=False"])
    loaded_config = yaml.safe_load(Path("config.yaml").read_text())  # no logger: saved in default_root_dir
    cli_config = cli.config["fit"].as_dict()
    assert cli_config["seed_everything"] == 1234
    assert "model" not in loaded_config and "model" not in cli_config
    assert loaded_config["data"] == cli_config["data"] and loaded_config["trainer"] == cli_config["trainer"]


def test_lightning_cli_args_callbacks(tmp_path):
    callbacks = renamed(json.dumps([
        {"class_path": "lightning.pytorch.callbacks.LearningRateMonitor",
         "init_args": {"logging_interval": "epoch", "log_momentum": True}},
        {"class_path": "lightning.pytorch.callbacks.ModelCheckpoint", "init_args": {"monitor": "NAME"}},
    ]))
    cli = LightningCLI(BoringModel, run=False, args=[f"--trainer.callbacks={callbacks}"],
                       trainer_defaults={"fast_dev_run": True, "logger": lazy_instance(CSVLogger, save_dir=".")})
    lr = [c for c in cli.trainer.callbacks if isinstance(c, LearningRateMonitor)]
    assert len(lr) == 1 and lr[0].logging_interval == "epoch" and lr[0].log_momentum is True
    ckpt = [c for c in cli.trainer.callbacks if isinstance(c, ModelCheckpoint)]
    assert len(ckpt) == 1 and ckpt[0].monitor == "NAME"
    assert isinstance(cli.config_init.trainer.logger, CSVLogger)


def test_lightning_cli_single_arg_callback():
    cli = LightningCLI(BoringModel, run=False, args=["--trainer.callbacks=LearningRateMonitor"])
    assert cli.config.trainer.callbacks.class_path == "runtime.callbacks.LearningRateMonitor"
    assert not isinstance(cli.config_init.trainer, list)


def test_lightning_cli_config_and_subclass_mode(tmp_path):
    input_config = {"fit": {
        "model": {"class_path": renamed("lightning.pytorch.demos.boring_classes.BoringModel")},
        "data": {"class_path": f"{__name__}.DataDirDataModule", "init_args": {"data_dir": "."}},
        "trainer": {"max_epochs": 1, "enable_model_summary": False, "logger": False, "limit_train_batches": 1,
                    "limit_val_batches": 1, "enable_progress_bar": False},
    }}
    Path("config.yaml").write_text(yaml.dump(input_config))
    cli = LightningCLI(BoringModel, BoringDataModule, subclass_mode_model=True, subclass_mode_data=True,
                       save_config_kwargs={"overwrite": True}, args=["--config", "config.yaml"])
    loaded_config = yaml.safe_load(Path("config.yaml").read_text())  # overwritten by the run's config
    cli_config = cli.config["fit"].as_dict()
    assert loaded_config["model"] == cli_config["model"] and loaded_config["data"] == cli_config["data"]
    assert loaded_config["trainer"] == cli_config["trainer"]
    assert isinstance(cli.datamodule, DataDirDataModule) and cli.trainer.global_step == 1


def test_lightning_cli_submodules(tmp_path):
    class MainModule(BoringModel):
        def __init__(self, submodule1: LightningModule, submodule2: LightningModule, main_param: int = 1):
            super().__init__()
            self.submodule1 = submodule1
            self.submodule2 = submodule2

    Path("config.yaml").write_text(renamed("""model:
        main_param: 2
        submodule1:
            class_path: lightning.pytorch.demos.boring_classes.BoringModel
        submodule2:
            class_path: lightning.pytorch.demos.boring_classes.BoringModel
    """))
    cli = LightningCLI(MainModule, run=False, args=["--config=config.yaml"])
    assert cli.config["model"]["main_param"] == 2
    assert isinstance(cli.model.submodule1, BoringModel) and isinstance(cli.model.submodule2, BoringModel)


def test_docs_callbacks_yaml(tmp_path):
    # docs/source-pytorch/cli/lightning_cli_advanced_3.rst
    Path("docs.yaml").write_text(renamed("""
    trainer:
      callbacks:
        - class_path: lightning.pytorch.callbacks.ModelCheckpoint
          init_args:
            save_weights_only: true
        - class_path: lightning.pytorch.callbacks.LearningRateMonitor
          init_args:
            logging_interval: 'epoch'
    optimizer:
      class_path: torch.optim.SGD
      init_args:
        lr: 0.01
    lr_scheduler:
      class_path: torch.optim.lr_scheduler.StepLR
      init_args:
        step_size: 1
        gamma: 0.2
    """))
    cli = LightningCLI(BoringModel, BoringDataModule, args=[
        "fit", "--config=docs.yaml", "--trainer.max_epochs=1", "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=1", "--trainer.enable_progress_bar=false",
        "--trainer.logger={class_path: CSVLogger, init_args: {save_dir: logs}}"])
    kinds = {type(c) for c in cli.trainer.callbacks}
    assert {ModelCheckpoint, LearningRateMonitor} <= kinds
    assert next(c for c in cli.trainer.callbacks if isinstance(c, ModelCheckpoint)).save_weights_only is True
    scheduler = cli.trainer.lr_scheduler_configs[0].scheduler
    assert isinstance(scheduler, torch.optim.lr_scheduler.StepLR) and scheduler.gamma == 0.2
    assert isinstance(cli.trainer.optimizers[0], torch.optim.SGD)


def test_lightning_cli_optimizer_and_lr_scheduler_subclasses(tmp_path):
    class MyLightningCLI(LightningCLI):
        def add_arguments_to_parser(self, parser):
            parser.add_optimizer_args((torch.optim.SGD, torch.optim.Adam))
            parser.add_lr_scheduler_args((torch.optim.lr_scheduler.StepLR, torch.optim.lr_scheduler.ExponentialLR))

    optimizer_arg = {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.01}}
    lr_scheduler_arg = {"class_path": "torch.optim.lr_scheduler.StepLR", "init_args": {"step_size": 50}}
    cli = MyLightningCLI(BoringModel, args=["fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=1",
                                            "--trainer.limit_val_batches=0", "--trainer.enable_progress_bar=false",
                                            f"--optimizer={json.dumps(optimizer_arg)}",
                                            f"--lr_scheduler={json.dumps(lr_scheduler_arg)}"])
    assert len(cli.trainer.optimizers) == 1 and isinstance(cli.trainer.optimizers[0], torch.optim.Adam)
    assert len(cli.trainer.lr_scheduler_configs) == 1
    assert isinstance(cli.trainer.lr_scheduler_configs[0].scheduler, torch.optim.lr_scheduler.StepLR)
    assert cli.trainer.lr_scheduler_configs[0].scheduler.step_size == 50
    # a class outside the allowed tuple is refused
    with pytest.raises(SystemExit):
        MyLightningCLI(BoringModel, run=False, args=["--optimizer=RMSprop"])


@pytest.mark.parametrize("use_generic_base_class", [False, True])
def test_lightning_cli_optimizers_and_lr_scheduler_with_link_to(use_generic_base_class):
    class MyLightningCLI(LightningCLI):
        def add_arguments_to_parser(self, parser):
            parser.add_optimizer_args((torch.optim.Optimizer,) if use_generic_base_class else torch.optim.Adam,
                                      nested_key="optim1", link_to="model.optim1")
            parser.add_optimizer_args((torch.optim.ASGD, torch.optim.SGD), nested_key="optim2", link_to="model.optim2")
            parser.add_lr_scheduler_args(LRSchedulerTypeTuple if use_generic_base_class else torch.optim.lr_scheduler.ExponentialLR,
                                         link_to="model.scheduler")

    class TestModel(BoringModel):
        def __init__(self, optim1: dict, optim2: dict, scheduler: dict):
            super().__init__()
            self.optim1 = instantiate_class(self.parameters(), optim1)
            self.optim2 = instantiate_class(self.parameters(), optim2)
            self.scheduler = instantiate_class(self.optim1, scheduler)

    args = ["--optim2=SGD", "--optim2.lr=0.01"]
    if use_generic_base_class:
        args = ["--optim1", "Adam", "--optim1.weight_decay", "0.001", *args, "--lr_scheduler=ExponentialLR"]
    args += ["--lr_scheduler.gamma=0.2"]
    cli = MyLightningCLI(TestModel, run=False, auto_configure_optimizers=False, args=args)
    assert isinstance(cli.model.optim1, torch.optim.Adam) and isinstance(cli.model.optim2, torch.optim.SGD)
    assert cli.model.optim2.param_groups[0]["lr"] == 0.01
    assert isinstance(cli.model.scheduler, torch.optim.lr_scheduler.ExponentialLR)


def test_lightning_env_parse(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit):
        LightningCLI(BoringModel, DataDirDataModule, parser_kwargs={"default_env": True}, args=["fit", "--help"])
    out = capsys.readouterr().out
    for name in ("PL_FIT__CONFIG", "PL_FIT__SEED_EVERYTHING", "PL_FIT__TRAINER__LOGGER", "PL_FIT__DATA__DATA_DIR", "PL_FIT__CKPT_PATH"):
        assert name in out
    for key, value in {"PL_FIT__DATA__DATA_DIR": ".", "PL_FIT__TRAINER__DEFAULT_ROOT_DIR": ".",
                       "PL_FIT__TRAINER__MAX_EPOCHS": "1", "PL_FIT__TRAINER__LOGGER": "False",
                       # ours, to keep it short
                       "PL_FIT__TRAINER__LIMIT_TRAIN_BATCHES": "1", "PL_FIT__TRAINER__LIMIT_VAL_BATCHES": "0",
                       "PL_FIT__TRAINER__ENABLE_PROGRESS_BAR": "false"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("sys.argv", ["", "fit"])
    cli = LightningCLI(BoringModel, DataDirDataModule, parser_kwargs={"default_env": True})
    assert cli.config.fit.data.data_dir == "." and cli.config.fit.trainer.default_root_dir == "."
    assert cli.config.fit.trainer.max_epochs == 1 and cli.config.fit.trainer.logger is False
    assert cli.trainer.global_step == 1


def test_set_defaults_and_class_args_for_a_callback(capsys):
    class MyCLI(LightningCLI):
        def add_arguments_to_parser(self, parser):
            parser.add_lightning_class_args(EarlyStopping, "early_stopping")
            parser.set_defaults({"early_stopping.monitor": "val_loss", "early_stopping.patience": 3})

    cli = MyCLI(BoringModel, run=False, args=["--early_stopping.patience=7"])
    stopper = next(c for c in cli.trainer.callbacks if isinstance(c, EarlyStopping))
    assert stopper.monitor == "val_loss" and stopper.patience == 7


def test_a_class_path_is_refused_before_anything_is_built(tmp_path, capsys):
    """A config naming subprocess.Popen (or any non-subclass) anywhere a class goes is refused; the command never runs."""
    marker = tmp_path / "MARKER"
    popen = {"class_path": "subprocess.Popen", "init_args": {"args": ["touch", str(marker)]}}

    class WithAny(BoringModel):
        def __init__(self, anything: object = None, nested: LightningModule | None = None):
            super().__init__()
            self.anything = anything

    places = [
        {"trainer": {"plugins": popen}}, {"trainer": {"plugins": [popen]}}, {"trainer": {"profiler": popen}},
        {"trainer": {"logger": popen}}, {"trainer": {"callbacks": [popen]}}, {"trainer": {"strategy": popen}},
        {"trainer": {"callbacks": [{"class_path": "runtime.callbacks.LambdaCallback", "init_args": {"on_fit_start": popen}}]}},
        {"model": {"nested": popen}}, {"model": {"nested": {"class_path": "runtime.demos.boring_classes.BoringModel"},
                                                  "anything": popen}},
        {"optimizer": popen}, {"lr_scheduler": popen}, {"data": popen},
    ]
    for i, place in enumerate(places):
        path = tmp_path / f"evil{i}.yaml"
        path.write_text(yaml.safe_dump(place))
        try:
            cli = LightningCLI(WithAny, BoringDataModule, subclass_mode_data=True, run=False,
                               args=["--config", str(path), "--trainer.logger=false"] if "logger" not in place.get("trainer", {})
                               else ["--config", str(path)])
        except SystemExit as exc:
            assert exc.code == 2, place
        else:  # accepted only where the annotation takes any value: kept as data, never built
            assert not any(type(v).__name__ == "Popen" for v in vars(cli.model).values()), place
            assert isinstance(cli.model.anything, (dict, type(None))) or not hasattr(cli.model.anything, "pid"), place
        assert not marker.exists(), place
    assert not marker.exists()
