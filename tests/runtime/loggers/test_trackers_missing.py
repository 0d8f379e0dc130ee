"""A tracker whose client library is not installed: one error naming the extra that installs it."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("logger, module, extra", [
    ("WandbLogger", "wandb", "wandb"), ("MLFlowLogger", "mlflow", "mlflow"),
    ("CometLogger", "comet_ml", "comet"), ("NeptuneLogger", "neptune", "neptune"),
])
def test_a_missing_client_names_its_extra(logger, module, extra):
    code = (f"import sys; sys.modules[{module!r}] = None\n"  # as if not installed
            f"from runtime.loggers import {logger}\n"
            f"try:\n    {logger}()\nexcept ModuleNotFoundError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert f'pip install "kindling[{extra}]"' in out.stdout and f"{logger} needs the `{module}` package" in out.stdout, out.stderr


def test_importing_the_loggers_imports_no_client():
    code = ("import sys, runtime, runtime.loggers, runtime.cli\n"
            "from runtime.loggers import WandbLogger, MLFlowLogger, CometLogger, NeptuneLogger\n"
            "print(sorted(m for m in ('wandb', 'mlflow', 'comet_ml', 'neptune', 'jsonargparse') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "['jsonargparse']", out.stderr  # the CLI's parser, and no tracker


def test_import_runtime_imports_neither_the_cli_parser_nor_rich_nor_a_tracker():
    code = ("import sys, runtime, runtime.callbacks, runtime.loggers\n"
            "print(sorted(m for m in ('wandb', 'mlflow', 'comet_ml', 'neptune', 'jsonargparse', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
