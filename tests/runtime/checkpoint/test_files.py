"""Checkpoint files: atomic under SIGKILL, safe to load, clear about what is wrong, written on
preemption signals and on exceptions, optionally in the background."""
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from argparse import Namespace
from pathlib import Path

import pytest
import torch

import runtime as pl
from runtime.callbacks import ModelCheckpoint, OnExceptionCheckpoint
from runtime.checkpoint.io import CorruptCheckpointError, UnsafeCheckpointError, load_checkpoint_file
from runtime.demos.boring_classes import BoringModel
from runtime.plugins import AsyncCheckpointIO
from runtime.utilities.exceptions import MisconfigurationException

REPO = str(Path(__file__).resolve().parents[3])
SCRIPT = Path(__file__).with_name("resume_script.py")


def quiet(tmp_path, **kw):
    opts = dict(default_root_dir=str(tmp_path), logger=False, enable_progress_bar=False, enable_model_summary=False,
                enable_checkpointing=False, max_epochs=1, limit_train_batches=4, limit_val_batches=0)
    opts.update(kw)
    return pl.Trainer(**opts)


def saved(tmp_path) -> Path:
    trainer = quiet(tmp_path)
    trainer.fit(BoringModel())
    path = tmp_path / "ok.ckpt"
    trainer.save_checkpoint(path)
    return path


# ------------------------------------------------------------------------------------------ safe loading
class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['MARKER']}",))


def test_a_pickle_that_runs_code_is_refused_and_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("MARKER", str(marker))
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "x": _Payload()}, evil)
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.ckpt.*weights_only=False"):
        load_checkpoint_file(evil)
    with pytest.raises(UnsafeCheckpointError):
        BoringModel.load_from_checkpoint(evil)
    with pytest.raises(UnsafeCheckpointError):
        quiet(tmp_path).fit(BoringModel(), ckpt_path=str(evil))
    assert not marker.exists()


def test_trusted_file_opts_in_with_weights_only_false(tmp_path):
    path = saved(tmp_path)
    ckpt = torch.load(path, weights_only=True)
    ckpt["hyper_parameters"] = {"args": Namespace(lr=0.1)}  # a class: not loadable with weights_only=True
    torch.save(ckpt, path)
    with pytest.raises(UnsafeCheckpointError, match="Namespace"):
        load_checkpoint_file(path)
    assert load_checkpoint_file(path, weights_only=False)["hyper_parameters"]["args"].lr == 0.1
    trainer = quiet(tmp_path, max_epochs=2)
    trainer.fit(BoringModel(), ckpt_path=str(path), weights_only=False)
    assert trainer.global_step == 8


def test_everything_the_runtime_writes_loads_weights_only(tmp_path):
    class Model(BoringModel):
        def __init__(self, hidden=3, name="x", sizes=(1, 2), extra=None):
            super().__init__()
            self.save_hyperparameters()

    trainer = quiet(tmp_path, enable_checkpointing=True, callbacks=[ModelCheckpoint(dirpath=tmp_path, save_last=True)],
                    limit_train_batches=6, max_epochs=2)
    trainer.fit(Model(extra={"a": [1.5, None]}))
    for file in tmp_path.glob("*.ckpt"):
        ckpt = torch.load(file, weights_only=True)
        assert ckpt["hyper_parameters"]["sizes"] == (1, 2)
        assert ckpt["loops"]["fit_loop"]["runtime_resume"]["rng"]["torch"].dtype == torch.uint8


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_file_gets_one_clear_error_naming_it(tmp_path, damage):
    path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": os.urandom(2048), "empty": b""}[damage])
    with pytest.raises(CorruptCheckpointError, match=r"ok\.ckpt.*(truncated|corrupt)"):
        load_checkpoint_file(path)
    with pytest.raises(CorruptCheckpointError, match=r"ok\.ckpt"):
        BoringModel.load_from_checkpoint(path)


def test_missing_and_unknown_checkpoints_say_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        quiet(tmp_path).fit(BoringModel(), ckpt_path=str(tmp_path / "nope.ckpt"))
    for name in ("last", "best"):
        with pytest.raises(MisconfigurationException, match=f'ckpt_path="{name}"'):
            quiet(tmp_path).fit(BoringModel(), ckpt_path=name)


def test_checkpoint_of_another_model_is_a_clear_error(tmp_path):
    path = saved(tmp_path)

    class Other(BoringModel):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(32, 7)

    with pytest.raises(RuntimeError, match=r"ok\.ckpt.*Other"):
        Other.load_from_checkpoint(path)
    with pytest.raises(RuntimeError, match=r"ok\.ckpt.*Other"):
        quiet(tmp_path).fit(Other(), ckpt_path=str(path))


# ------------------------------------------------------------------------------------------ atomic writes
WRITER = textwrap.dedent(
    """
    import sys, torch
    sys.path.insert(0, sys.argv[2])
    from runtime.checkpoint.io import atomic_save
    big = {"state_dict": {"w": torch.randn(4_000_000)}}  # ~16 MB: long enough to be killed mid-write
    i = 0
    while True:
        big["step"] = i
        atomic_save(big, sys.argv[1])
        i += 1
    """
)


def test_fit_refuses_to_resume_from_weights_only(tmp_path):
    trainer = quiet(tmp_path, callbacks=[ModelCheckpoint(dirpath=tmp_path / "w", save_weights_only=True)],
                    enable_checkpointing=True)
    trainer.fit(BoringModel())
    path = next((tmp_path / "w").glob("*.ckpt"))
    with pytest.raises(MisconfigurationException, match="holds only the weights.*load_from_checkpoint"):
        quiet(tmp_path).fit(BoringModel(), ckpt_path=path)
    weights = BoringModel.load_from_checkpoint(path).state_dict()  # what it is for still works
    results = quiet(tmp_path, limit_val_batches=2).validate(BoringModel(), ckpt_path=path, verbose=False)
    assert weights and results


def test_sigkill_during_saves_never_leaves_a_truncated_checkpoint(tmp_path):
    target = tmp_path / "last.ckpt"
    for delay in (0.0, 0.05, 0.13, 0.21, 0.34):  # after the first save, at points inside later ones
        target.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), REPO])
        deadline = time.monotonic() + 60
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ckpt = load_checkpoint_file(target)  # whatever is under the name is a complete checkpoint
        assert ckpt["state_dict"]["w"].numel() == 4_000_000
    assert all(p.name == "last.ckpt" or p.name.endswith(".tmp") for p in tmp_path.iterdir())


# ------------------------------------------------------------------------------------------ preemption
def run_script(out: Path, root: Path, **env_extra):
    env = {**os.environ, "REPO": REPO, "WORKERS": "0", "OUT": str(out), "ROOT": str(root), **env_extra}
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def test_sigterm_saves_exits_143_and_the_next_start_resumes_exactly(tmp_path):
    ref = run_script(tmp_path / "ref.pt", tmp_path / "ref", MODE="preempt")
    assert ref.returncode == 0, ref.stderr[-2000:]
    reference = torch.load(tmp_path / "ref.pt", weights_only=True)

    root = tmp_path / "job"
    first = run_script(tmp_path / "first.pt", root, SIGNAL_AT="13")
    assert first.returncode == 128 + signal.SIGTERM, first.stderr[-2000:]
    assert not (tmp_path / "first.pt").exists()
    ckpt = load_checkpoint_file(root / "hpc_ckpt_1.ckpt")
    assert ckpt["global_step"] == 13  # the step in flight finished before the save
    # a requeued batch job (SLURM) resumes by itself; elsewhere fit(ckpt_path="hpc") asks for it
    second = run_script(tmp_path / "second.pt", root, MODE="preempt", SLURM_JOB_ID="7", SLURM_JOB_NAME="train")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "hpc_ckpt_1.ckpt" in second.stderr
    got = torch.load(tmp_path / "second.pt", weights_only=True)
    assert all(torch.equal(got[k], reference[k]) for k in reference)
    assert not (root / "hpc_ckpt_1.ckpt").exists()  # the run it belonged to finished: removed


def test_sigusr1_under_slurm_requeues_the_job(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "scontrol.log"
    fake = bin_dir / "scontrol"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n")
    fake.chmod(0o755)
    done = run_script(tmp_path / "out.pt", tmp_path / "job", SIGNAL_AT="5", SIGNAL="SIGUSR1", SLURM_JOB_ID="4242",
                      SLURM_JOB_NAME="train", PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert done.returncode == 128 + signal.SIGUSR1, done.stderr[-2000:]
    assert log.read_text().split() == ["requeue", "4242"]
    assert load_checkpoint_file(tmp_path / "job" / "hpc_ckpt_1.ckpt")["global_step"] == 5


# ------------------------------------------------------------------------------------------ on exception
def test_on_exception_checkpoint_saves_when_training_raises(tmp_path):
    class Boom(BoringModel):
        def training_step(self, batch, batch_idx):
            if self.global_step == 3:
                raise ValueError("boom")
            return super().training_step(batch, batch_idx)

    cb = OnExceptionCheckpoint(tmp_path / "exc")
    with pytest.raises(ValueError, match="boom"):
        quiet(tmp_path, callbacks=[cb], enable_checkpointing=True).fit(Boom())
    assert load_checkpoint_file(cb.ckpt_path)["global_step"] == 3
    trainer = quiet(tmp_path, max_epochs=1, limit_train_batches=6)
    trainer.fit(BoringModel(), ckpt_path=cb.ckpt_path)
    assert trainer.global_step == 6


# ------------------------------------------------------------------------------------------ async saves
def test_async_saves_match_sync_ones(tmp_path):
    results = {}
    for name, plugins in (("sync", []), ("async", [AsyncCheckpointIO()])):
        pl.seed_everything(0)
        cb = ModelCheckpoint(dirpath=tmp_path / name, every_n_train_steps=1, save_top_k=2, monitor="loss", save_last=True)

        class Model(BoringModel):
            def training_step(self, batch, batch_idx):
                out = super().training_step(batch, batch_idx)
                self.log("loss", out["loss"])
                return out

        trainer = quiet(tmp_path, enable_checkpointing=True, callbacks=[cb], plugins=plugins, limit_train_batches=8)
        trainer.fit(Model())
        files = sorted(p.name for p in (tmp_path / name).iterdir())
        results[name] = {f: torch.load(tmp_path / name / f, weights_only=True)["state_dict"] for f in files}
    assert results["sync"].keys() == results["async"].keys()
    assert len(results["sync"]) == 3  # top 2 and last
    for f, state in results["sync"].items():
        assert all(torch.equal(state[k], results["async"][f][k]) for k in state)


def test_async_save_copies_tensors_before_returning(tmp_path):
    io = AsyncCheckpointIO()
    w = torch.zeros(1_000_000)
    io.save_checkpoint({"state_dict": {"w": w}}, tmp_path / "a.ckpt")
    w.add_(1.0)  # the next optimizer step, while the write may still be running
    io.teardown()
    assert torch.count_nonzero(torch.load(tmp_path / "a.ckpt", weights_only=True)["state_dict"]["w"]) == 0


def test_async_write_errors_surface_on_the_training_thread(tmp_path):
    io = AsyncCheckpointIO()
    (tmp_path / "file").write_text("not a folder")
    io.save_checkpoint({"x": torch.ones(1)}, tmp_path / "file" / "a.ckpt")
    with pytest.raises(RuntimeError, match="background checkpoint write failed"):
        io.teardown()


def test_storage_options_the_io_cannot_use_are_refused(tmp_path):
    from runtime.plugins import TorchCheckpointIO

    trainer = quiet(tmp_path)
    trainer.fit(BoringModel())
    with pytest.raises(TypeError, match=r"`storage_options` arg is not supported for `TorchCheckpointIO`"):
        trainer.save_checkpoint(tmp_path / "a.ckpt", storage_options={"compression": "gzip"})
    assert not (tmp_path / "a.ckpt").exists()
    TorchCheckpointIO().save_checkpoint({"x": 1}, tmp_path / "b.ckpt")  # without options it writes
    assert torch.load(tmp_path / "b.ckpt")["x"] == 1


def test_xla_checkpoint_io_needs_torch_xla():
    import importlib.util

    from runtime.plugins import XLACheckpointIO

    if importlib.util.find_spec("torch_xla") is not None:
        pytest.skip("torch_xla is installed here")
    with pytest.raises(ModuleNotFoundError, match="pip install torch_xla"):
        XLACheckpointIO()
