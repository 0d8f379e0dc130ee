"""``--help``: model and data arguments with their types, defaults and docstring descriptions."""
import pytest

from tests.runtime.cli.helpers import toy_cli


def _help(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exc:
        toy_cli(*args)
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare with spaces collapsed


def test_subcommand_help_lists_every_group(capsys):
    out = _help(capsys, "fit", "--help")
    assert out.startswith("usage: ")
    assert "A small regressor whose hyperparameters cover the types the config runner checks:" in out
    assert "--model.lr LR learning rate of the SGD optimizer. (type: float, default: 0.1)" in out
    assert "--model.activation {relu,tanh} the nonlinearity between the layers. (type: Literal['relu', 'tanh'], default: relu)" in out
    assert "--model.dropout DROPOUT dropout probability, or None for no dropout. (type: float | null, default: null)" in out
    assert "extra hidden layers. (type: list[int], default: [])" in out
    assert "--data.batch_size BATCH_SIZE samples per batch. (type: int, default: 4)" in out
    assert "--trainer.max_epochs MAX_EPOCHS" in out
    assert "--ckpt_path CKPT_PATH" in out and "--seed_everything SEED_EVERYTHING" in out and "-c CONFIG, --config CONFIG" in out
    assert "--optimizer CONFIG | CLASS_PATH_OR_NAME | .INIT_ARG_NAME VALUE" in out


def test_root_help_lists_subcommands(capsys):
    out = _help(capsys, "-h")
    assert "fit Train" in out and "validate Run one validation pass" in out and "predict" in out
    assert "--trainer.max_epochs" not in out  # shown per subcommand
