"""Shared pieces of the config-runner tests: the fastest real run, and running a CLI that should fail."""
import pytest
import yaml

from runtime.cli import LightningCLI
from tests.runtime.cli.toy import ToyData, ToyModel

# the smallest real run: two batches, no progress bar or summary
FAST = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1",
        "--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]


def toy_cli(*args, **kwargs) -> LightningCLI:
    return LightningCLI(ToyModel, ToyData, args=list(args), **kwargs)


def cli_error(capsys, *args, cli=toy_cli, **kwargs) -> str:
    """Run a CLI that must refuse its input: exit code 2, a one-line usage, and the one error line it printed."""
    with pytest.raises(SystemExit) as exc:
        cli(*args, **kwargs)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("tip: ")]
    assert lines[0].startswith("usage: ") and len(lines) == 2 and lines[1].startswith("error: "), err
    return lines[1][len("error: "):]


def print_config(capsys, *args, cli=toy_cli, **kwargs) -> dict:
    """Run with --print_config; it must exit 0 and print YAML, which is returned parsed."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli(*args, "--print_config", **kwargs)
    assert exc.value.code == 0
    return yaml.safe_load(capsys.readouterr().out)


def write_yaml(path, data) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return str(path)
