"""Nothing resumes by surprise, a resume with the wrong optimizer says so at load, and every on_exception
handler runs (issue 15, items 4, 6, 12)."""
import os
import warnings

import pytest
import torch

import runtime as pl
from runtime.callbacks import Callback, OnExceptionCheckpoint
from runtime.checkpoint.io import load_checkpoint_file
from runtime.demos.boring_classes import BoringModel


def _trainer(root, **kw):
    opts = dict(default_root_dir=str(root), logger=False, enable_progress_bar=False, enable_model_summary=False,
                enable_checkpointing=False, max_epochs=1, limit_train_batches=4, limit_val_batches=0)
    opts.update(kw)
    return pl.Trainer(**opts)


def _leave_preemption_file(root, steps=2):
    trainer = _trainer(root, limit_train_batches=steps)
    trainer.fit(BoringModel())
    trainer.save_checkpoint(root / "hpc_ckpt_1.ckpt")


@pytest.fixture
def no_cluster(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("SLURM_", "TORCHELASTIC_")) or name in ("LOCAL_RANK", "WORLD_SIZE", "RANK"):
            monkeypatch.delenv(name)


# ------------------------------------------------------------------------------------------ item 4
def test_a_leftover_preemption_file_is_not_resumed_without_a_cluster(tmp_path, no_cluster):
    _leave_preemption_file(tmp_path)
    trainer = _trainer(tmp_path)
    with pytest.warns(UserWarning, match=r"hpc_ckpt_1\.ckpt.*not resuming.*ckpt_path='hpc'"):
        trainer.fit(BoringModel())
    assert trainer.global_step == 4  # trained from the start, all 4 steps
    assert (tmp_path / "hpc_ckpt_1.ckpt").exists()  # not ours to remove: another run's file


def test_asked_with_ckpt_path_hpc_it_resumes_and_the_finished_run_removes_its_files(tmp_path, no_cluster):
    _leave_preemption_file(tmp_path)
    trainer = _trainer(tmp_path, max_epochs=2)
    trainer.fit(BoringModel(), ckpt_path="hpc")
    assert trainer.global_step == 2 + 4 and trainer.ckpt_path.endswith("hpc_ckpt_1.ckpt")  # went on from step 2
    assert not (tmp_path / "hpc_ckpt_1.ckpt").exists()  # the run it belonged to has finished


def test_under_a_requeuing_cluster_it_resumes_by_itself(tmp_path, no_cluster, monkeypatch):
    _leave_preemption_file(tmp_path)
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_JOB_NAME", "train")
    trainer = _trainer(tmp_path, max_epochs=2)
    trainer.fit(BoringModel())
    assert trainer.global_step == 2 + 4 and trainer.ckpt_path.endswith("hpc_ckpt_1.ckpt")
    assert not (tmp_path / "hpc_ckpt_1.ckpt").exists()


def test_ckpt_path_hpc_without_a_file_is_a_clear_error(tmp_path, no_cluster):
    with pytest.raises(Exception, match=r"ckpt_path='hpc'.*no hpc_ckpt_N\.ckpt"):
        _trainer(tmp_path).fit(BoringModel(), ckpt_path="hpc")


# ------------------------------------------------------------------------------------------ item 12
class AdamModel(BoringModel):
    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)


class CountingAdam(AdamModel):
    steps = 0

    def training_step(self, batch, batch_idx):
        CountingAdam.steps += 1
        return super().training_step(batch, batch_idx)


def test_resuming_with_another_optimizer_names_the_file_and_both_optimizers_at_load(tmp_path):
    trainer = _trainer(tmp_path, limit_train_batches=2)
    trainer.fit(BoringModel())  # SGD
    path = tmp_path / "sgd.ckpt"
    trainer.save_checkpoint(path)
    CountingAdam.steps = 0
    with pytest.raises(ValueError, match=r"sgd\.ckpt was saved with SGD .* but configure_optimizers now returns Adam"):
        _trainer(tmp_path, max_epochs=2).fit(CountingAdam(), ckpt_path=str(path))
    assert CountingAdam.steps == 0  # found at load, not at the first step
    same = _trainer(tmp_path, max_epochs=2, limit_train_batches=2)
    same.fit(BoringModel(), ckpt_path=str(path))  # the same optimizer still resumes
    assert same.global_step == 4


# ------------------------------------------------------------------------------------------ item 6
class FailingHandler(Callback):
    def on_exception(self, trainer, pl_module, exception):
        raise OSError("the handler itself failed")


class Boom(BoringModel):
    def training_step(self, batch, batch_idx):
        if self.global_step == 2:
            raise ValueError("boom")
        return super().training_step(batch, batch_idx)


def test_every_on_exception_handler_runs_and_failures_are_reported(tmp_path):
    save = OnExceptionCheckpoint(tmp_path / "exc")
    with pytest.raises(ValueError, match="boom") as info, pytest.warns(UserWarning, match=r"FailingHandler\.on_exception failed"):
        _trainer(tmp_path, callbacks=[FailingHandler(), save], enable_checkpointing=True).fit(Boom())
    assert load_checkpoint_file(save.ckpt_path)["global_step"] == 2  # ran although the handler before it failed
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "FailingHandler.on_exception failed: OSError: the handler itself failed" in notes


def test_a_failed_exception_checkpoint_is_reported_with_its_file(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    save = OnExceptionCheckpoint(blocked)
    with pytest.raises(ValueError, match="boom") as info, pytest.warns(UserWarning, match="OnExceptionCheckpoint.on_exception failed"):
        _trainer(tmp_path, callbacks=[save], enable_checkpointing=True).fit(Boom())
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert f"Could not write checkpoint {save.ckpt_path}" in notes


def test_stale_temporaries_of_preemption_and_exception_saves_are_removed_at_the_next_fit(tmp_path, no_cluster):
    import socket

    host = socket.gethostname().replace(".", "_")
    dead = 2**22 + 12345  # above the default pid_max: no process has this id
    root_tmp = tmp_path / f".hpc_ckpt_1.ckpt.{host}-{dead}.x1.tmp"
    exc_dir = tmp_path / "exc"
    exc_dir.mkdir()
    exc_tmp = exc_dir / f".on_exception.ckpt.{host}-{dead}.x2.tmp"
    for p in (root_tmp, exc_tmp):
        p.write_bytes(b"partial")
    _trainer(tmp_path, callbacks=[OnExceptionCheckpoint(exc_dir)], enable_checkpointing=True).fit(BoringModel())
    assert not root_tmp.exists() and not exc_tmp.exists()
