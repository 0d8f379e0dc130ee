import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own folder, so `lightning_logs/` and relative config paths land there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PL_GLOBAL_SEED", raising=False)
    monkeypatch.setattr("sys.argv", ["train.py"])  # LightningCLI warns when args= and a command line are both given
    yield tmp_path
