"""A run killed with SIGKILL and resumed from its last checkpoint ends with exactly the weights of a
run that was never interrupted (bit for bit on CPU), wherever in the epoch the kill lands."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # runs killed and resumed as real processes

SCRIPT = Path(__file__).with_name("resume_script.py")
REPO = str(Path(__file__).resolve().parents[3])
STEPS_PER_EPOCH, EPOCHS = 10, 3


def run(tmp: Path, name: str, workers: int, kill_at: int | None = None, root: Path | None = None, **extra: str):
    env = {**os.environ, "REPO": REPO, "WORKERS": str(workers), "OUT": str(tmp / f"{name}.pt"),
           "ROOT": str(root or tmp / name), "PYTHONHASHSEED": "0", **extra}
    env.pop("KILL_AT", None)
    if kill_at is not None:
        env["KILL_AT"] = str(kill_at)
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)


@pytest.fixture(scope="module", params=[2, 0], ids=["workers2", "workers0"])
def reference(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"ref{request.param}")
    done = run(tmp, "ref", request.param)
    assert done.returncode == 0, done.stderr[-2000:]
    return request.param, weights(tmp / "ref.pt")


# the first step, the last step of an epoch, the first step of the next, one inside, the very last
KILL_POINTS = [1, STEPS_PER_EPOCH, STEPS_PER_EPOCH + 1, 17, STEPS_PER_EPOCH * EPOCHS]


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_killed_and_resumed_run_matches_uninterrupted(reference, kill_at, tmp_path):
    workers, ref = reference
    if workers == 0 and kill_at not in (STEPS_PER_EPOCH, 17):
        pytest.skip("the in-process loader is checked at two kill points to keep CI short")
    root = tmp_path / "ckpts"
    killed = run(tmp_path, "killed", workers, kill_at=kill_at, root=root)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "killed.pt").exists()
    resumed = run(tmp_path, "resumed", workers, root=root)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    got = weights(tmp_path / "resumed.pt")
    assert got.keys() == ref.keys()
    for k in ref:
        assert torch.equal(got[k], ref[k]), f"{k} differs after a kill at step {kill_at}"


def test_resume_from_an_end_of_epoch_checkpoint_matches(reference, tmp_path):
    """Killed in the first step of epoch 2, resumed from the checkpoint written at the end of epoch 1."""
    workers, ref = reference
    if workers == 0:
        pytest.skip("checked with worker processes only")
    root = tmp_path / "ckpts"
    killed = run(tmp_path, "killed", workers, kill_at=STEPS_PER_EPOCH + 1, root=root, SAVE_AT="epoch_end")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    saved = torch.load(root / "last.ckpt", weights_only=True)
    assert saved["global_step"] == STEPS_PER_EPOCH and saved["loops"]["fit_loop"]["runtime_progress"]["epoch_done"]
    resumed = run(tmp_path, "resumed", workers, root=root, SAVE_AT="epoch_end")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    got = weights(tmp_path / "resumed.pt")
    assert all(torch.equal(got[k], ref[k]) for k in ref)
