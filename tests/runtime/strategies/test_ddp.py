"""DDP with real processes (gloo on CPU): the same weights on every rank and as one process with the
same global batch, collectives, rank-zero files, no hangs, torchrun multi-node and elastic restarts."""
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from runtime.utilities.exceptions import MisconfigurationException

pytestmark = pytest.mark.slow  # several real processes per test

SCRIPT = Path(__file__).with_name("ddp_script.py")
REPO = str(Path(__file__).resolve().parents[3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(tmp: Path, name: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_PORT", "MASTER_ADDR")}
    env.update(REPO=REPO, ROOT=str(tmp / name), OUT=str(tmp / f"{name}_RANK.pt"), **extra)
    return env


def run(tmp: Path, name: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], env=env_for(tmp, name, **extra), capture_output=True,
                          text=True, timeout=timeout)


def torchrun(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *args, str(SCRIPT)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def load(tmp: Path, name: str, rank: int | str = 0) -> dict:
    return torch.load(tmp / f"{name}_{rank}.pt", weights_only=True)


def assert_close(a: dict, b: dict, exact: bool = False) -> None:
    for k in a:
        if exact:
            assert torch.equal(a[k], b[k]), k
        else:
            torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    done = run(tmp, "single", MODE="single")
    assert done.returncode == 0, done.stderr[-3000:]
    return load(tmp, "single")


def test_two_processes_train_like_one_with_the_same_global_batch(tmp_path, single):
    done = run(tmp_path, "ddp", MODE="ddp", DEVICES="2")
    assert done.returncode == 0, done.stderr[-3000:]
    r0, r1 = load(tmp_path, "ddp", 0), load(tmp_path, "ddp", 1)
    assert r0["world"] == 2 and r0["global_step"] == single["global_step"] == 12
    assert_close(r0["state"], r1["state"], exact=True)  # DDP keeps the ranks identical
    assert_close(r0["state"], single["state"])
    # sync_dist=True averaged the ranks' values (0 and 1), and every rank sees the same numbers
    assert r0["metrics"]["rank_value"] == r1["metrics"]["rank_value"] == 0.5
    assert r0["metrics"]["loss"] == r1["metrics"]["loss"]
    # validate after fit in the same script runs in the same two processes, split across them
    assert r0["validated"] == r1["validated"]
    assert r0["validated"][0]["val_loss"] == pytest.approx(single["validated"][0]["val_loss"], rel=1e-5)
    # only rank zero wrote: one log version, one events file, one set of checkpoints
    root = tmp_path / "ddp"
    assert [p.name for p in (root / "lightning_logs").iterdir()] == ["version_0"]
    # one events file per call (fit, validate), from rank zero alone
    assert len(list((root / "lightning_logs" / "version_0").glob("events.out.tfevents.*"))) == 2
    assert sorted(p.name for p in (root / "ckpt").iterdir()) == ["epoch=1-step=12.ckpt", "last.ckpt"]


def test_accumulation_skips_the_allreduce_and_still_matches(tmp_path, tmp_path_factory):
    done = run(tmp_path, "ddp", MODE="ddp", DEVICES="2", ACCUMULATE="2")
    assert done.returncode == 0, done.stderr[-3000:]
    ref = run(tmp_path, "single", MODE="single", ACCUMULATE="2")
    assert ref.returncode == 0, ref.stderr[-3000:]
    assert_close(load(tmp_path, "ddp", 0)["state"], load(tmp_path, "single")["state"])
    assert_close(load(tmp_path, "ddp", 0)["state"], load(tmp_path, "ddp", 1)["state"], exact=True)


def test_manual_optimization_with_two_optimizers_matches_one_process(tmp_path):
    done = run(tmp_path, "ddp", MODE="ddp", DEVICES="2", MANUAL="1")
    assert done.returncode == 0, done.stderr[-3000:]
    ref = run(tmp_path, "single", MODE="single", MANUAL="1")
    assert ref.returncode == 0, ref.stderr[-3000:]
    assert load(tmp_path, "ddp", 0)["global_step"] == load(tmp_path, "single")["global_step"] == 24  # 2 steps a batch
    assert_close(load(tmp_path, "ddp", 0)["state"], load(tmp_path, "single")["state"])
    assert_close(load(tmp_path, "ddp", 0)["state"], load(tmp_path, "ddp", 1)["state"], exact=True)


def test_a_stop_signal_on_one_rank_saves_on_all_and_the_next_start_resumes(tmp_path, single):
    first = run(tmp_path, "sig", MODE="ddp", DEVICES="2", SIGNAL_RANK="1", SIGNAL_STEP="4")
    assert first.returncode == 128 + signal.SIGTERM, first.stderr[-3000:]
    saved = torch.load(tmp_path / "sig" / "hpc_ckpt_1.ckpt", weights_only=True)
    assert 5 <= saved["global_step"] < 12  # the ranks agreed a few steps after rank 1 got it, and saved together
    # the same command, requeued by SLURM: resumes by itself
    again = run(tmp_path, "sig", MODE="ddp", DEVICES="2", SIGNAL_STEP="-1", SLURM_JOB_ID="7", SLURM_JOB_NAME="train")
    assert again.returncode == 0, again.stderr[-3000:]
    assert load(tmp_path, "sig", 0)["global_step"] == 12
    assert_close(load(tmp_path, "sig", 0)["state"], single["state"])
    assert_close(load(tmp_path, "sig", 0)["state"], load(tmp_path, "sig", 1)["state"], exact=True)


def test_max_time_running_out_on_one_rank_stops_all_ranks_at_the_same_step(tmp_path):
    # rank 1's clock jumps past max_time at step 2, rank 0's never does: a rank that stopped alone would leave
    # the other waiting in DDP's gradient all-reduce (a hang, caught by the run's timeout)
    done = run(tmp_path, "time", timeout=90, MODE="ddp", DEVICES="2", MAX_TIME="00:01:00:00", CLOCK_JUMP_STEP="2")
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [load(tmp_path, "time", rank)["global_step"] for rank in (0, 1)]
    assert steps[0] == steps[1], steps
    assert 3 <= steps[0] < 12, steps  # stopped early, a few steps after rank 1's time ran out


def test_a_failing_rank_ends_the_whole_run_quickly_with_its_traceback(tmp_path):
    # "quickly": the other rank is ended, not left waiting in a collective (gloo's default timeout is 30 min);
    # a hang shows as the run's timeout, not as a timing assertion (the shared CI machine is too noisy for one)
    done = run(tmp_path, "fail", timeout=120, MODE="ddp", DEVICES="2", FAIL_RANK="1", FAIL_STEP="3")
    assert done.returncode != 0
    assert "planted failure on rank 1 at step 3" in done.stdout + done.stderr
    # the failing rank (not rank zero) wrote OnExceptionCheckpoint's file alone, without waiting for the others
    saved = torch.load(tmp_path / "fail" / "on_exception" / "on_exception.ckpt", weights_only=True)
    assert saved["global_step"] == 3


def test_two_torchrun_nodes_on_loopback(tmp_path, single):
    port = str(free_port())
    procs = []
    for node in (0, 1):
        env = env_for(tmp_path, f"node{node}", MODE="torchrun", DEVICES="1", NUM_NODES="2")
        args = ["--nnodes=2", f"--node_rank={node}", "--nproc-per-node=1", "--master_addr=127.0.0.1", f"--master_port={port}"]
        procs.append(torchrun(args, env))
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-2000:] for o in outs)
    r0, r1 = load(tmp_path, "node0", 0), load(tmp_path, "node1", 1)
    assert r0["world"] == r1["world"] == 2
    assert_close(r0["state"], r1["state"], exact=True)
    assert_close(r0["state"], single["state"])


def test_torchrun_restart_resumes_from_the_last_checkpoint(tmp_path):
    clean = run(tmp_path, "clean", MODE="ddp", DEVICES="2")
    assert clean.returncode == 0, clean.stderr[-3000:]
    env = env_for(tmp_path, "elastic", MODE="torchrun", DEVICES="2", FAIL_RANK="1", FAIL_STEP="5", FAIL_ONCE="1")
    proc = torchrun(["--standalone", "--nproc-per-node=2", "--max-restarts=1"], env)
    out = proc.communicate(timeout=180)[0]
    assert proc.returncode == 0, out[-3000:]
    assert "planted failure on rank 1 at step 5" in out
    assert "torchrun restarted this run; resuming from" in out and "last.ckpt" in out
    got = load(tmp_path, "elastic", 0)
    assert got["global_step"] == 12
    assert_close(got["state"], load(tmp_path, "clean", 0)["state"], exact=True)


# ------------------------------------------------------------------------------------------ in-process
class SpawnModel(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        loss = self.layer(x).pow(2).mean()
        self.log("loss", loss, sync_dist=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_ddp_spawn_brings_rank_zero_weights_back(tmp_path):
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16, 4, generator=g)), batch_size=4)
    model = SpawnModel()
    before = model.layer.weight.detach().clone()
    trainer = pl.Trainer(accelerator="cpu", strategy="ddp_spawn", devices=2, max_epochs=1, logger=False,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                         default_root_dir=str(tmp_path))
    trainer.fit(model, loader)
    assert trainer.global_step == 2  # 16 samples, 2 processes x batch 4
    assert not torch.equal(model.layer.weight, before)
    assert "loss" in trainer.callback_metrics
    assert trainer.state.finished and trainer.state.fn == "fit"  # the state the processes ended in


def test_world_size_mismatch_with_the_launcher_is_a_clear_error(monkeypatch):
    for k, v in dict(TORCHELASTIC_RUN_ID="x", RANK="0", LOCAL_RANK="0", WORLD_SIZE="4", MASTER_ADDR="127.0.0.1",
                     MASTER_PORT="29555", GROUP_RANK="0").items():
        monkeypatch.setenv(k, v)
    with pytest.raises(MisconfigurationException, match=r"devices=2 x num_nodes=1 = 2 processes.*started 4"):
        pl.Trainer(accelerator="cpu", strategy="ddp", devices=2)


def test_unknown_strategy_suggests_the_nearest(tmp_path):
    with pytest.raises(MisconfigurationException, match="Did you mean 'ddp_spawn'"):
        pl.Trainer(strategy="ddp_spwan")
