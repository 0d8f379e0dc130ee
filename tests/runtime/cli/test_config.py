"""Config files, their merging order, dotted overrides, conversion against annotations, classes by name."""
from pathlib import Path

import pytest
import torch
import yaml

from runtime.callbacks import ModelCheckpoint
from runtime.cli import LightningCLI
from runtime.demos.boring_classes import BoringDataModule, BoringModel
from runtime.loggers import CSVLogger
from tests.runtime.cli.helpers import FAST, print_config, toy_cli, write_yaml
from tests.runtime.cli.toy import ToyData, ToyModel


def test_configs_merge_in_order_and_flags_win_by_position(tmp_path, capsys):
    a = write_yaml(tmp_path / "a.yaml", {"trainer": {"max_epochs": 5, "limit_train_batches": 3}, "model": {"hidden": 4, "lr": 0.5}})
    b = write_yaml(tmp_path / "b.yaml", {"trainer": {"max_epochs": 6}, "model": {"lr": 0.25}, "seed_everything": 3})
    cfg = print_config(capsys, "fit", "--config", a, "--config", b)
    assert cfg["trainer"]["max_epochs"] == 6 and cfg["trainer"]["limit_train_batches"] == 3  # b over a, per key
    assert cfg["model"]["hidden"] == 4 and cfg["model"]["lr"] == 0.25 and cfg["seed_everything"] == 3
    # a flag before --config is overridden by the file; after it, the flag wins (LightningCLI's order)
    assert print_config(capsys, "fit", "--model.hidden=9", "-c", a)["model"]["hidden"] == 4
    assert print_config(capsys, "fit", "-c", a, "--model.hidden=9")["model"]["hidden"] == 9


def test_default_config_files_main_and_per_subcommand(tmp_path, capsys):
    write_yaml(tmp_path / "configs" / "default.yaml", {"trainer": {"max_epochs": 4}, "model": {"hidden": 7}})
    write_yaml(tmp_path / "configs" / "fit.yaml", {"model": {"hidden": 8}})
    main = {"default_config_files": ["configs/default.yaml"]}
    cfg = print_config(capsys, "fit", parser_kwargs=main)
    assert cfg["trainer"]["max_epochs"] == 4 and cfg["model"]["hidden"] == 7
    assert print_config(capsys, "test", parser_kwargs=main)["model"]["hidden"] == 7  # applies to every subcommand
    assert print_config(capsys, "fit", "--model.hidden=2", parser_kwargs=main)["model"]["hidden"] == 2
    per_fit = {**main, "fit": {"default_config_files": ["configs/fit.yaml"]}}
    assert print_config(capsys, "fit", parser_kwargs=per_fit)["model"]["hidden"] == 8  # the subcommand's file wins
    assert print_config(capsys, "test", parser_kwargs=per_fit)["model"]["hidden"] == 7
    assert print_config(capsys, "fit", parser_kwargs={"default_config_files": ["configs/*.yaml"]})["model"]["hidden"] == 8


def test_a_config_with_subcommand_sections(tmp_path, capsys):
    path = write_yaml(tmp_path / "all.yaml", {"fit": {"model": {"hidden": 5}}, "test": {"model": {"hidden": 6}}})
    # Lightning's form: the file goes before the subcommand, on the main parser
    assert print_config(capsys, "--config", path, "fit")["model"]["hidden"] == 5
    assert print_config(capsys, "--config", path, "test")["model"]["hidden"] == 6


def test_print_config_round_trips(tmp_path, capsys):
    cfg = print_config(capsys, "fit", "--model.widths=[3]", "--model.out_dir=out", "--trainer.max_time=00:00:01:00",
                       "--trainer.callbacks=ModelCheckpoint", "--optimizer=Adam", "--optimizer.lr=0.01")
    assert cfg["model"]["out_dir"] == "out" and cfg["trainer"]["max_time"] == "00:00:01:00"
    assert cfg["trainer"]["callbacks"]["class_path"] == "runtime.callbacks.ModelCheckpoint"
    assert cfg["optimizer"]["class_path"] == "torch.optim.Adam" and cfg["optimizer"]["init_args"]["betas"] == [0.9, 0.999]
    path = write_yaml(tmp_path / "printed.yaml", cfg)
    assert print_config(capsys, "fit", "--config", path) == cfg
    with pytest.raises(SystemExit):
        toy_cli("fit", "--print_config=skip_unset")
    skipped = yaml.safe_load(capsys.readouterr().out)
    assert "ckpt_path" not in skipped and "dropout" not in skipped["model"] and skipped["model"]["lr"] == 0.1


def test_values_are_converted_to_the_annotations():
    cli = LightningCLI(
        ToyModel, ToyData, run=False,
        args=["--model.lr=1", "--model.dropout=null", "--model.widths", "[1, 2]", "--model.name=007",
              "--model.out_dir=some/dir", "--trainer.enable_checkpointing=False", "--trainer.fast_dev_run=true", "--data.size=8"])
    hp = cli.model.hparams
    assert hp.lr == 1.0 and isinstance(hp.lr, float)
    assert hp.dropout is None and hp.widths == [1, 2] and hp.name == "007"  # str keeps the text as typed
    assert hp.out_dir == Path("some/dir")
    assert cli.trainer.fast_dev_run is True and cli.datamodule.size == 8
    assert not any(isinstance(cb, ModelCheckpoint) for cb in cli.trainer.callbacks)


def test_callbacks_and_logger_by_class_path_and_short_name(tmp_path):
    cfg = write_yaml(tmp_path / "c.yaml", {"trainer": {
        "callbacks": [{"class_path": "runtime.callbacks.ModelCheckpoint", "init_args": {"monitor": "val_loss", "save_top_k": 2}},
                      {"class_path": "runtime.callbacks.LearningRateMonitor"}],
        "logger": {"class_path": "CSVLogger", "init_args": {"save_dir": "csv"}}}})
    cli = toy_cli("fit", *FAST, "--config", cfg)
    ckpt = [cb for cb in cli.trainer.callbacks if isinstance(cb, ModelCheckpoint)]
    assert len(ckpt) == 1 and ckpt[0].monitor == "val_loss" and ckpt[0].save_top_k == 2
    assert isinstance(cli.trainer.logger, CSVLogger) and (tmp_path / "csv" / "lightning_logs" / "version_0" / "config.yaml").is_file()
    # += appends to the list from the file
    cli = LightningCLI(ToyModel, ToyData, run=False, args=["--config", cfg, "--trainer.callbacks+={class_path: ModelSummary, init_args: {max_depth: 3}}"])
    assert len(cli.config.trainer.callbacks) == 3 and cli.config.trainer.callbacks[2]["init_args"]["max_depth"] == 3


def test_subclass_mode_model_and_data(capsys):
    args = ["fit", *FAST, "--model=runtime.demos.boring_classes.BoringModel", "--data=BoringDataModule"]
    cli = LightningCLI(args=args)
    assert type(cli.model) is BoringModel and type(cli.datamodule) is BoringDataModule and cli.trainer.global_step == 2
    cli = LightningCLI(ToyModel, subclass_mode_model=True, run=False,
                       args=["--model=tests.runtime.cli.toy.ToyModel", "--model.hidden=3", "--model.init_args.lr=0.2"])
    assert cli.model.hparams.hidden == 3 and cli.model.hparams.lr == 0.2 and cli.datamodule is None
    cfg = print_config(capsys, "--model=ToyModel", cli=lambda *a: LightningCLI(ToyModel, subclass_mode_model=True, run=False, args=list(a)))
    assert cfg["model"]["class_path"] == "tests.runtime.cli.toy.ToyModel" and cfg["model"]["init_args"]["hidden"] == 8


def test_optimizer_and_lr_scheduler_from_the_config():
    with pytest.warns(UserWarning, match="configure_optimizers` will be overridden"):
        cli = toy_cli("fit", *FAST, "--optimizer=Adam", "--optimizer.lr=0.01", "--lr_scheduler=StepLR", "--lr_scheduler.step_size=1")
    opt = cli.trainer.optimizers[0]
    assert isinstance(opt, torch.optim.Adam) and opt.defaults["lr"] == 0.01
    assert isinstance(cli.trainer.lr_scheduler_configs[0].scheduler, torch.optim.lr_scheduler.StepLR)
    with pytest.warns(UserWarning, match="configure_optimizers` will be overridden"):
        cli = toy_cli("fit", *FAST, "--optimizer=SGD", "--optimizer.lr=0.3", "--lr_scheduler=ReduceLROnPlateau",
                      "--lr_scheduler.monitor=train_loss")
    config = cli.trainer.lr_scheduler_configs[0]
    assert config.monitor == "train_loss" and isinstance(config.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


def test_add_arguments_to_parser_and_links(capsys):
    class LinkedCLI(LightningCLI):
        def add_arguments_to_parser(self, parser):
            parser.add_argument("--notes", type=str, default="", help="Free text.")
            parser.link_arguments("data.num_features", "model.num_features")  # on parse
            parser.link_arguments("data.size", "model.hidden", compute_fn=lambda size: size // 2, apply_on="instantiate")

    cli = LinkedCLI(ToyModel, ToyData, run=False, args=["--data.num_features=3", "--data.size=10", "--notes=hello"])
    assert cli.model.hparams.num_features == 3 and cli.model.hparams.hidden == 5 and cli.config.notes == "hello"
    with pytest.raises(SystemExit):
        LinkedCLI(ToyModel, ToyData, run=False, args=["--model.num_features=3"])
    assert 'Linked "model.num_features" must be given via "data.num_features"' in capsys.readouterr().err
