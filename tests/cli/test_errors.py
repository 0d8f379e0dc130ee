"""Every refusal of the config runner: one message naming the key, the value and what was expected; exit code 2."""
import pytest

from runtime.cli import CLIError, LightningCLI
from runtime.demos.boring_classes import BoringDataModule, BoringModel
from tests.cli.helpers import cli_error, toy_cli, write_yaml
from tests.cli.toy import ToyData, ToyModel


def test_unknown_key_suggests_the_nearest(capsys):
    assert cli_error(capsys, "fit", "--model.lrr", "0.1") == "--model.lrr: no such argument; did you mean --model.lr?"
    assert cli_error(capsys, "fit", "--trainer.max_epoch=3") == "--trainer.max_epoch: no such argument; did you mean --trainer.max_epochs?"
    assert cli_error(capsys, "fit", "--data.batchsize=3") == "--data.batchsize: no such argument; did you mean --data.batch_size?"
    assert cli_error(capsys, "fit", "--seed_everythin=3") == "--seed_everythin: no such argument; did you mean --seed_everything?"
    assert cli_error(capsys, "fit", "--model.zzz=1") == ("--model.zzz: no such argument; model arguments are: hidden, lr, activation, "
                                                         "dropout, widths, name, out_dir, num_features")
    msg = cli_error(capsys, "fit", "--model.x=1", cli=lambda *a: LightningCLI(BoringModel, BoringDataModule, args=list(a)))
    assert msg == "--model.x: no such argument; BoringModel takes no arguments"


def test_unknown_key_in_a_config_file(tmp_path, capsys):
    path = write_yaml(tmp_path / "bad.yaml", {"model": {"hiden": 3}})
    assert cli_error(capsys, "fit", "--config", path) == f"{path}: model.hiden: no such key; did you mean model.hidden?"
    path = write_yaml(tmp_path / "bad2.yaml", {"trainr": {"max_epochs": 3}})
    assert cli_error(capsys, "fit", "--config", path) == f"{path}: trainr: no such key; did you mean trainer?"
    assert cli_error(capsys, "fit", "--trainr.max_epochs=3") == "--trainr.max_epochs: no such argument; did you mean --trainer.max_epochs?"


def test_wrong_type_names_key_value_and_type(tmp_path, capsys):
    assert cli_error(capsys, "fit", "--trainer.max_epochs=three") == "--trainer.max_epochs: expected int | None, got 'three'"
    assert cli_error(capsys, "fit", "--model.lr", "fast") == "--model.lr: expected float, got 'fast'"
    assert cli_error(capsys, "fit", "--model.activation=gelu") == "--model.activation: expected Literal['relu', 'tanh'], got 'gelu'"
    assert cli_error(capsys, "fit", "--model.widths=[1, x]") == "--model.widths: expected list[int], got '[1, x]'"
    assert cli_error(capsys, "fit", "--trainer.enable_progress_bar=maybe") == \
        "--trainer.enable_progress_bar: expected bool | None, got 'maybe'"
    path = write_yaml(tmp_path / "bad.yaml", {"data": {"batch_size": 2.5}})
    assert cli_error(capsys, "fit", "--config", path) == f"{path}: data.batch_size: expected int, got 2.5"


def test_missing_config_files(tmp_path, capsys):
    msg = cli_error(capsys, "fit", "--config", "nope.yaml")
    assert msg == f"--config 'nope.yaml' does not exist (looked in {tmp_path})"
    msg = cli_error(capsys, "fit", parser_kwargs={"default_config_files": ["configs/default.yaml"]})
    assert msg.startswith(f"default config file 'configs/default.yaml' does not exist (looked in {tmp_path}); run from the project folder")
    (tmp_path / "broken.yaml").write_text("trainer: [unclosed\n")
    assert cli_error(capsys, "fit", "--config", "broken.yaml").startswith("broken.yaml: not valid YAML")
    (tmp_path / "list.yaml").write_text("- 1\n")
    assert cli_error(capsys, "fit", "-c", "list.yaml") == "list.yaml: expected a mapping with trainer / model / data sections, got list"


def test_subcommand_mistakes(capsys):
    assert cli_error(capsys) == "expected a subcommand: fit, validate, test, predict"
    assert cli_error(capsys, "fitt") == "invalid subcommand 'fitt'; choose from fit, validate, test, predict (did you mean 'fit'?)"
    assert cli_error(capsys, "--trainer.max_epochs=1", "fit").startswith("unexpected argument '--trainer.max_epochs=1' before the subcommand")
    assert cli_error(capsys, "fit", "stray") == "unexpected argument 'stray'; options look like --trainer.max_epochs=3"
    assert cli_error(capsys, "fit", "--model.lr") == "--model.lr: expected a value"


def test_classes_by_name(capsys):
    assert cli_error(capsys, "fit", "--trainer.callbacks=[{class_path: ModelCheckpont}]") == \
        "--trainer.callbacks: no Callback class named 'ModelCheckpont'; did you mean 'ModelCheckpoint'?"
    assert cli_error(capsys, "fit", "--trainer.logger={class_path: nowhere.Logger}").startswith(
        "--trainer.logger: cannot import 'nowhere.Logger'")
    assert cli_error(capsys, "fit", "--trainer.callbacks={class_path: ModelCheckpoint, init_args: {monitr: x}}") == \
        "--trainer.callbacks: init_args.monitr: ModelCheckpoint has no such argument; did you mean 'monitor'?"
    assert cli_error(capsys, "fit", "--trainer.callbacks={class_path: ModelCheckpoint, init_args: {save_top_k: many}}") == \
        "--trainer.callbacks: init_args.save_top_k of ModelCheckpoint: expected int, got 'many'"
    assert cli_error(capsys, "fit", "--optimizer=Adamm") == "--optimizer: no Optimizer class named 'Adamm'; did you mean 'Adam'?"
    assert cli_error(capsys, "fit", "--lr_scheduler=StepLR") == \
        "--lr_scheduler: StepLR needs init_args.step_size (int); set --lr_scheduler.step_size=VALUE"
    assert cli_error(capsys, "fit", "--optimizer.lr=0.1") == \
        "--optimizer.lr: choose the class first, e.g. --optimizer=CLASS (then --optimizer.ARG=VALUE)"


def test_required_arguments(capsys):
    class Needs(ToyModel):
        def __init__(self, depth: int, lr: float = 0.1):
            super().__init__(lr=lr)

    msg = cli_error(capsys, "fit", cli=lambda *a: LightningCLI(Needs, ToyData, args=list(a)))
    assert msg == "--model.depth is required (int); set it on the command line or in a --config file"
    msg = cli_error(capsys, "fit", cli=lambda *a: LightningCLI(args=list(a)))
    assert msg.startswith("--model is required: name a LightningModule class")


def test_trainer_refusals_become_config_errors(capsys):
    msg = cli_error(capsys, "fit", "--trainer.strategy=ddpp")
    assert msg.startswith("--trainer: strategy='ddpp' is not supported")


def test_exit_on_error_false_raises():
    with pytest.raises(CLIError, match=r"--model.lrr: no such argument; did you mean --model.lr\?"):
        toy_cli("fit", "--model.lrr=1", parser_kwargs={"exit_on_error": False})


def test_programmer_errors_are_exceptions():
    with pytest.raises(KeyError, match="did you mean 'trainer.max_epochs'"):
        LightningCLI(ToyModel, ToyData, trainer_defaults={"max_epoch": 1}, args=["fit"])
