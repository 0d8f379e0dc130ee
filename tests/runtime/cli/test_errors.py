"""Every refusal of the config runner: one line naming the key, the value and what was expected; exit code 2."""
from argparse import ArgumentError

import pytest

from runtime.cli import LightningCLI
from runtime.demos.boring_classes import BoringDataModule, BoringModel
from tests.runtime.cli.helpers import cli_error, toy_cli, write_yaml
from tests.runtime.cli.toy import ToyData, ToyModel


def test_unknown_key_suggests_the_nearest(capsys):
    assert cli_error(capsys, "fit", "--model.lrr", "0.1") == "unrecognized arguments: --model.lrr 0.1 (did you mean --model.lr?)"
    # no abbreviations: a near miss is an error, not silently the longer option
    assert cli_error(capsys, "fit", "--trainer.max_epoch=3").endswith("(did you mean --trainer.max_epochs?)")
    assert cli_error(capsys, "fit", "--data.batchsize=3").endswith("(did you mean --data.batch_size?)")
    assert cli_error(capsys, "fit", "--seed_everythin=3").endswith("(did you mean --seed_everything?)")
    assert cli_error(capsys, "fit", "--model.zzz=1") == "unrecognized arguments: --model.zzz=1"
    msg = cli_error(capsys, "fit", "--model.x=1", cli=lambda *a: LightningCLI(BoringModel, BoringDataModule, args=list(a)))
    assert msg.startswith("unrecognized arguments: --model.x=1")


def test_unknown_key_in_a_config_file(tmp_path, capsys):
    path = write_yaml(tmp_path / "bad.yaml", {"model": {"hiden": 3}})
    assert cli_error(capsys, "fit", "--config", path) == \
        "Subcommand 'fit' does not accept option 'model.hiden' (did you mean --model.hidden?)"
    path = write_yaml(tmp_path / "bad2.yaml", {"trainr": {"max_epochs": 3}})
    assert cli_error(capsys, "fit", "--config", path).endswith("(did you mean --trainer.max_epochs?)")


def test_wrong_type_names_key_value_and_type(tmp_path, capsys):
    assert cli_error(capsys, "fit", "--trainer.max_epochs=three") == "trainer.max_epochs: expected int | None, got 'three'"
    assert cli_error(capsys, "fit", "--model.lr", "fast") == "model.lr: expected float, got 'fast'"
    assert cli_error(capsys, "fit", "--model.activation=gelu") == "model.activation: expected Literal['relu', 'tanh'], got 'gelu'"
    assert cli_error(capsys, "fit", "--model.widths=[1, x]") == "model.widths: expected list[int], got 'x'"
    assert cli_error(capsys, "fit", "--trainer.enable_progress_bar=maybe") == \
        "trainer.enable_progress_bar: expected bool | None, got 'maybe'"
    path = write_yaml(tmp_path / "bad.yaml", {"data": {"batch_size": 2.5}})
    assert cli_error(capsys, "fit", "--config", path) == "data.batch_size: expected int, got '2.5'"


def test_missing_and_broken_config_files(tmp_path, capsys):
    assert cli_error(capsys, "fit", "--config", "nope.yaml") == f"config: File does not exist: '{tmp_path / 'nope.yaml'}'"
    msg = cli_error(capsys, "fit", parser_kwargs={"default_config_files": ["configs/default.yaml"]})
    assert msg == f"default config file 'configs/default.yaml' does not exist (looked in {tmp_path}); run from the project folder"
    (tmp_path / "broken.yaml").write_text("trainer: [unclosed\n")
    assert cli_error(capsys, "fit", "--config", "broken.yaml").startswith("Problems parsing config:")
    (tmp_path / "tagged.yaml").write_text("trainer: !!python/object/apply:os.system [touch pwned]\n")
    cli_error(capsys, "fit", "--config", "tagged.yaml")
    assert not (tmp_path / "pwned").exists()  # safe YAML: a tag runs nothing


def test_subcommand_mistakes(capsys):
    assert cli_error(capsys) == 'expected "subcommand" to be one of {fit,validate,test,predict}, but it was not provided.'
    assert cli_error(capsys, "fitt").endswith("invalid choice: 'fitt' (choose from 'fit', 'validate', 'test', 'predict') "
                                              "(did you mean 'fit'?)")
    assert cli_error(capsys, "fit", "stray") == "unrecognized arguments: stray"
    assert cli_error(capsys, "fit", "--model.lr").startswith("argument --model.lr: expected one argument")


def test_classes_by_name(tmp_path, capsys):
    assert cli_error(capsys, "fit", "--trainer.callbacks=[{class_path: ModelCheckpont}]") == (
        "trainer.callbacks: no class named 'ModelCheckpont' that fits list[Callback] | Callback | None "
        "(did you mean 'ModelCheckpoint'?)")
    assert cli_error(capsys, "fit", "--trainer.logger={class_path: nowhere.Logger}") == \
        "trainer.logger: nowhere.Logger: No module named 'nowhere'"
    assert cli_error(capsys, "fit", "--trainer.callbacks={class_path: ModelCheckpoint, init_args: {monitr: x}}") == \
        "trainer.callbacks: runtime.callbacks.ModelCheckpoint: Option 'monitr' is not accepted (did you mean 'monitor'?)"
    assert cli_error(capsys, "fit", "--trainer.callbacks={class_path: ModelCheckpoint, init_args: {save_top_k: many}}") == \
        "trainer.callbacks: runtime.callbacks.ModelCheckpoint: save_top_k: expected int, got 'many'"
    assert cli_error(capsys, "fit", "--optimizer=Adamm") == \
        "optimizer: no class named 'Adamm' that fits Optimizer | None (did you mean 'Adam'?)"
    assert cli_error(capsys, "fit", "--lr_scheduler=StepLR") == \
        "lr_scheduler: torch.optim.lr_scheduler.StepLR: the following arguments are required: step_size"
    path = write_yaml(tmp_path / "profiler.yaml", {"trainer": {"profiler": {"class_path": "collections.OrderedDict"}}})
    assert cli_error(capsys, "fit", "--config", path) == "trainer.profiler: collections.OrderedDict is not a subclass of Profiler"


def test_required_arguments(capsys):
    class Needs(ToyModel):
        def __init__(self, depth: int, lr: float = 0.1):
            super().__init__(lr=lr)

    msg = cli_error(capsys, "fit", cli=lambda *a: LightningCLI(Needs, ToyData, args=list(a)))
    assert msg == "the following arguments are required: fit.model.depth"
    msg = cli_error(capsys, "fit", cli=lambda *a: LightningCLI(args=list(a)))
    assert msg.startswith("the following arguments are required: fit.model")


def test_trainer_refusals_become_config_errors(capsys):
    msg = cli_error(capsys, "fit", "--trainer.strategy=ddpp")
    assert msg.startswith("trainer: strategy='ddpp' is not supported") and "Did you mean 'ddp'?" in msg


def test_exit_on_error_false_raises():
    with pytest.raises(ArgumentError, match=r"--model.lrr=1 \(did you mean --model.lr\?\)"):
        toy_cli("fit", "--model.lrr=1", parser_kwargs={"exit_on_error": False})


def test_programmer_errors_are_exceptions():
    with pytest.raises(KeyError, match="max_epoch"):
        LightningCLI(ToyModel, ToyData, trainer_defaults={"max_epoch": 1}, args=["fit"])
