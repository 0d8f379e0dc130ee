"""The import contracts in pyproject.toml (layers import downward only, no cycles, the "never" rules) hold."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_linter_contracts_are_kept():
    pytest.importorskip("importlinter", reason="import-linter is in the `test` extra: pip install -e '.[test]'")
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_every_runtime_package_has_a_layer():
    """A new package under runtime/ must be placed in the layers contract, or its imports go unchecked."""
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        contracts = tomllib.load(f)["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    placed = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    here = os.path.join(ROOT, "runtime")
    found = {f"runtime.{name.removesuffix('.py')}" for name in os.listdir(here)
             if not name.startswith(("_", ".")) and (name.endswith(".py") or os.path.isdir(os.path.join(here, name)))}
    assert found - placed == set(), f"runtime packages missing from [tool.importlinter] layers: {sorted(found - placed)}"


def test_trainer_module_stays_configuration_plus_entry_points():
    """trainer.py holds the signature, the public properties and the entry points (issue 16): the rest lives
    beside it (flags, run, loops, data, logging, checkpointing, views). Past 450 lines it is growing back into
    the god object: move the new code to the module it belongs with."""
    with open(os.path.join(ROOT, "runtime", "trainer", "trainer.py"), encoding="utf-8") as f:
        lines = sum(1 for _ in f)
    assert lines < 450, f"runtime/trainer/trainer.py has {lines} lines"
