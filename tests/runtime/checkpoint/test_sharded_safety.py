"""A sharded checkpoint folder never runs code from its files, on any load path: torch unpickles
``.metadata`` and the non-tensor entries of the shards itself, so both are read through our readers."""
import os
import pickle
from pathlib import Path

import pytest
import torch

import runtime as pl
from runtime.callbacks import ModelCheckpoint
from runtime.checkpoint import sharded
from runtime.checkpoint.io import UnsafeCheckpointError, load_checkpoint_file
from runtime.demos.boring_classes import BoringModel


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['MARKER']}",))


def _trainer(root, **kw):
    opts = dict(default_root_dir=str(root), logger=False, enable_progress_bar=False, enable_model_summary=False,
                enable_checkpointing=False, max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    opts.update(kw)
    return pl.Trainer(**opts)


def _sharded_folder(tmp_path: Path, name: str) -> tuple[Path, dict]:
    """A real sharded checkpoint folder of a trained BoringModel, written by ``sharded.save``."""
    trainer = _trainer(tmp_path / "train")
    trainer.fit(BoringModel())
    trainer.save_checkpoint(tmp_path / "whole.ckpt")
    checkpoint = load_checkpoint_file(tmp_path / "whole.ckpt")
    folder = tmp_path / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    sharded.save(checkpoint, str(folder), trainer.strategy)
    return folder, checkpoint


def _load_paths(folder: Path, root: Path):
    """Every way a folder is loaded: (what, callable). ``load_into`` / ``load_optimizers_into`` are FSDP's shard-by-shard path (here in
    one process, on a plain module: the same readers)."""
    yield "load_checkpoint_file", lambda: load_checkpoint_file(folder)

    def shard_by_shard():  # the weights first, then the optimizer states once the optimizer exists (a resume)
        model = BoringModel()
        (states, *_) = sharded.load_into(str(folder), model)["optimizer_states"]
        sharded.load_optimizers_into(states, model, [torch.optim.SGD(model.parameters(), lr=0.1)])

    yield "load_into, load_optimizers_into", shard_by_shard
    yield "load_from_checkpoint", lambda: BoringModel.load_from_checkpoint(folder)
    yield "fit(ckpt_path=folder)", lambda: _trainer(root).fit(BoringModel(), ckpt_path=str(folder))


def test_a_whole_sharded_folder_still_loads_and_resumes(tmp_path):
    folder, checkpoint = _sharded_folder(tmp_path, "ok.ckpt")
    loaded = load_checkpoint_file(folder, map_location="cpu")
    for key, value in checkpoint["state_dict"].items():
        assert torch.equal(loaded["state_dict"][key], value)
    assert loaded["optimizer_states"][0]["param_groups"] == checkpoint["optimizer_states"][0]["param_groups"]
    trainer = _trainer(tmp_path / "resume", max_epochs=2)
    trainer.fit(BoringModel(), ckpt_path=str(folder))
    assert trainer.global_step == 4


def test_metadata_that_runs_code_is_refused_on_every_load_path(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("MARKER", str(marker))
    folder, _ = _sharded_folder(tmp_path, "evil.ckpt")
    (folder / ".metadata").write_bytes(pickle.dumps(_Payload()))
    for what, load in _load_paths(folder, tmp_path / "fit"):
        with pytest.raises(UnsafeCheckpointError, match=r"evil\.ckpt is not a sharded checkpoint torch wrote: `\.metadata` names posix\.system"):
            load()
        assert not marker.exists(), what


def test_last_and_preempted_folders_are_refused_too(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("MARKER", str(marker))
    ckpt_dir = tmp_path / "ckpts"
    folder, _ = _sharded_folder(tmp_path, "ckpts/last.ckpt")
    (folder / ".metadata").write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(UnsafeCheckpointError, match="last.ckpt"):
        _trainer(tmp_path, enable_checkpointing=True, callbacks=[ModelCheckpoint(dirpath=ckpt_dir)]).fit(BoringModel(), ckpt_path="last")
    assert not marker.exists()
    root = tmp_path / "job"
    hpc, _ = _sharded_folder(root / "x", "hpc_ckpt_1.ckpt")
    os.replace(hpc, root / "hpc_ckpt_1.ckpt")
    (root / "hpc_ckpt_1.ckpt" / ".metadata").write_bytes(pickle.dumps(_Payload()))
    monkeypatch.setenv("SLURM_JOB_ID", "1")  # a requeuing cluster: preemption files are resumed
    monkeypatch.setenv("SLURM_NTASKS", "1")
    with pytest.raises(UnsafeCheckpointError, match="hpc_ckpt_1.ckpt"):
        _trainer(root).fit(BoringModel())
    assert not marker.exists()


def test_a_shard_entry_that_runs_code_is_refused(tmp_path, monkeypatch):
    """``.metadata`` as torch writes it, but an optimizer entry in the shard file is a code-running pickle."""
    import torch.distributed.checkpoint as dcp

    marker = tmp_path / "pwned"
    monkeypatch.setenv("MARKER", str(marker))
    folder, checkpoint = _sharded_folder(tmp_path, "entry.ckpt")
    checkpoint["optimizer_states"][0]["param_groups"][0]["lr"] = _Payload()
    for child in folder.iterdir():
        child.unlink()
    with pytest.warns(UserWarning):  # torch: "assuming the intent is to save in a single process"
        dcp.save({k: checkpoint[k] for k in ("state_dict", "optimizer_states")}, checkpoint_id=str(folder))
    pl_meta = {k: v for k, v in checkpoint.items() if k not in ("state_dict", "optimizer_states")}
    pl_meta["sharded_checkpoint"] = {"writer": "torch.distributed.checkpoint", "optimizers": 1}
    torch.save(pl_meta, folder / sharded.META)
    for what, load in _load_paths(folder, tmp_path / "fit"):
        with pytest.raises(UnsafeCheckpointError, match=r"entry\.ckpt.*'optimizer_states\.0\.param_groups\.0\.lr' holds pickled objects"):
            load()
        assert not marker.exists(), what


def test_metadata_pointing_outside_the_folder_is_refused(tmp_path):
    from runtime.checkpoint.io import CorruptCheckpointError

    folder, _ = _sharded_folder(tmp_path, "out.ckpt")
    metadata = sharded.read_metadata(str(folder))
    for info in metadata.storage_data.values():
        info.relative_path = "../../etc/passwd"
    (folder / ".metadata").write_bytes(pickle.dumps(metadata))
    with pytest.raises(CorruptCheckpointError, match="points outside the folder"):
        load_checkpoint_file(folder)
