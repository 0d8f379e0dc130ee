"""Shared helpers: the project folder, its default config, and the config runner as a function."""
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `train.py`'s config runner in-process with ``args``; logs and checkpoints go to a temp folder."""
    from runtime.cli import LightningCLI

    from {{ cookiecutter.package_name }}.datamodule import {{ cookiecutter._datamodule_class }}
    from {{ cookiecutter.package_name }}.module import {{ cookiecutter._module_class }}

    monkeypatch.chdir(tmp_path)  # loggers with a relative save_dir write here, not into the project

    def run(*args: str):
        subcommand, rest = args[0], list(args[1:])
        return LightningCLI(
            {{ cookiecutter._module_class }},
            {{ cookiecutter._datamodule_class }},
            parser_kwargs={"default_config_files": [str(DEFAULT_CONFIG)]},
            args=[subcommand, f"--trainer.default_root_dir={tmp_path}", "--trainer.enable_progress_bar=false", *rest],
        )

    return run
