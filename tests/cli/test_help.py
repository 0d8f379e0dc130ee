"""``--help``: model and data arguments with their types, defaults and docstring descriptions."""
import pytest

from runtime.cli.classes import parse_param_docs
from tests.cli.helpers import toy_cli


def _help(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exc:
        toy_cli(*args)
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare with spaces collapsed


def test_subcommand_help_lists_every_group(capsys):
    out = _help(capsys, "fit", "--help")
    assert out.startswith("usage: ")
    assert "model (ToyModel): A small regressor whose hyperparameters cover the types the config runner checks." in out
    assert "--model.lr LR learning rate of the SGD optimizer. (type: float, default: 0.1)" in out
    assert "--model.activation ACTIVATION the nonlinearity between the layers. (type: Literal['relu', 'tanh'], default: relu)" in out
    assert "--model.dropout DROPOUT dropout probability, or None for no dropout. (type: float | None, default: null)" in out
    assert "--model.widths WIDTHS extra hidden layers. (type: list[int], default: [])" in out
    assert "--data.batch_size BATCH_SIZE samples per batch. (type: int, default: 4)" in out
    assert "--trainer.max_epochs MAX_EPOCHS (type: int | None, default: null)" in out
    assert "--ckpt_path CKPT_PATH" in out and "--seed_everything SEED_EVERYTHING" in out and "-c CONFIG, --config CONFIG" in out
    assert "--optimizer CLASS" in out


def test_root_help_lists_subcommands_and_model_data_arguments(capsys):
    out = _help(capsys, "-h")
    assert "fit Train" in out and "validate" in out and "predict" in out
    assert "--model.hidden HIDDEN width of the hidden layer. (type: int, default: 8)" in out
    assert "--data.size SIZE number of samples in each split. (type: int, default: 16)" in out
    assert "--trainer.max_epochs" not in out  # shown per subcommand


def test_docstring_styles():
    google = '''Summary.

    Args:
        a (int): first
            continued.
        b: second.

    Returns:
        nothing: not a parameter.
    '''
    assert parse_param_docs(google) == {"a": "first continued.", "b": "second."}
    sphinx = '''Summary.

    :param a: first
        continued.
    :param int b: second.
    :returns: nothing
    '''
    assert parse_param_docs(sphinx) == {"a": "first continued.", "b": "second."}
    numpy = '''Summary.

    Parameters
    ----------
    a : int
        first
        continued.
    b : str
        second.

    Returns
    -------
    x : nothing
    '''
    assert parse_param_docs(numpy) == {"a": "first continued.", "b": "second."}
