"""Checkpoint files under bad luck: a full disk, a killed writer, a flipped bit, the umask, and the
messages each of these gives (issue 15)."""
import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

import runtime as pl
from runtime.callbacks import ModelCheckpoint
from runtime.checkpoint.io import (CheckpointWriteError, CorruptCheckpointError, atomic_save, load_checkpoint_file,
                                   remove_stale_temporaries)
from runtime.demos.boring_classes import BoringModel

REPO = str(Path(__file__).resolve().parents[3])


class Wide(BoringModel):
    """BoringModel with 64k extra parameters: a checkpoint of about 260 KB."""

    def __init__(self) -> None:
        super().__init__()
        self.extra = torch.nn.Parameter(torch.zeros(256, 256))

    def training_step(self, batch, batch_idx):
        self.log("score", float(-self.global_step))  # every step is the new best (mode="min")
        return super().training_step(batch, batch_idx)


def _trainer(root, **kw):
    opts = dict(default_root_dir=str(root), logger=False, enable_progress_bar=False, enable_model_summary=False,
                max_epochs=1, limit_train_batches=8, limit_val_batches=0)
    opts.update(kw)
    return pl.Trainer(**opts)


# ------------------------------------------------------------------------------------------ disk full
@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A folder with room for about three ``Wide`` checkpoints: a real 1 MiB tmpfs where this process may
    mount one, else the fourth ``torch.save`` fails with ENOSPC as a full disk makes it."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True).returncode == 0
    if not mounted:
        real_save, calls = torch.save, []

        def save(obj, f, *args, **kwargs):
            calls.append(1)
            if len(calls) > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_save(obj, f, *args, **kwargs)

        monkeypatch.setattr(torch, "save", save)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_names_the_file_and_keeps_best_model_path_on_a_written_file(tmp_path, small_disk):
    ckpt = ModelCheckpoint(dirpath=small_disk, every_n_train_steps=1, save_top_k=-1, monitor="score")
    trainer = _trainer(tmp_path, callbacks=[ckpt])
    with pytest.raises(CheckpointWriteError, match=r"Could not write checkpoint .*disk.*step=\d+\.ckpt: the disk is full") as info:
        trainer.fit(Wide())
    assert info.value.errno == errno.ENOSPC
    written = sorted(p.name for p in small_disk.iterdir())
    assert written and not any(name.endswith(".tmp") for name in written)  # the partial write is gone
    assert Path(ckpt.best_model_path).name in written  # the bookkeeping stayed on the last written file
    assert set(ckpt.best_k_models) == {str(small_disk / n) for n in written}
    trainer.test(Wide(), ckpt_path="best", verbose=False)  # and "best" loads


def test_write_errors_name_the_file(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)  # a full disk found at flush time, as on NFS or with delayed allocation
    with pytest.raises(CheckpointWriteError, match=r"a\.ckpt: the disk is full"):
        atomic_save({"x": 1}, tmp_path / "a.ckpt")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    (tmp_path / "file").write_text("")
    with pytest.raises(CheckpointWriteError, match=r"Could not write checkpoint .*file/b\.ckpt"):
        atomic_save({"x": 1}, tmp_path / "file" / "b.ckpt")


# ------------------------------------------------------------------------------------------ umask
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoints_follow_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        atomic_save({"x": 1}, tmp_path / "a.ckpt")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "a.ckpt").stat().st_mode & 0o777 == mode == (tmp_path / "plain").stat().st_mode & 0o777


# ------------------------------------------------------------------------------------------ killed writers
_WRITER = textwrap.dedent("""
    import sys, torch
    sys.path.insert(0, sys.argv[1])
    from runtime.checkpoint.io import atomic_save
    big = {"w": torch.randn(32 * 2**20 // 4)}
    print("ready", flush=True)
    while True:
        atomic_save(big, sys.argv[2])
""")


def test_a_killed_writers_temporary_is_removed_at_the_next_start(tmp_path):
    target = tmp_path / "ckpts" / "last.ckpt"
    target.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, REPO, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".tmp") for p in target.parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    leftovers = [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".last.ckpt.")
    # a live writer's temporary (this process's) is never touched
    live = target.parent / f".x.ckpt.{leftovers[0].name.split('.')[3].rsplit('-', 1)[0]}-{os.getpid()}.abc.tmp"
    live.write_bytes(b"")
    other = target.parent / ".x.ckpt.otherhost-1.abc.tmp"  # another machine's: it may be alive
    other.write_bytes(b"")
    ckpt = ModelCheckpoint(dirpath=target.parent, save_top_k=0)
    _trainer(tmp_path, callbacks=[ckpt], max_epochs=1, limit_train_batches=1).fit(BoringModel())
    assert not leftovers[0].exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(target.parent) == []


# ------------------------------------------------------------------------------------------ integrity
def test_a_flipped_bit_in_a_tensor_is_found_and_the_tensor_named(tmp_path):
    trainer = _trainer(tmp_path, enable_checkpointing=False)
    trainer.fit(Wide())
    path = tmp_path / "ok.ckpt"
    trainer.save_checkpoint(path)
    load_checkpoint_file(path)  # intact: loads
    weight = Wide.load_from_checkpoint(path).layer.weight.detach()
    data = bytearray(path.read_bytes())
    at = data.find(weight.numpy().tobytes())
    assert at > 0
    data[at + 5] ^= 0x40  # one bit of one float of layer.weight
    path.write_bytes(bytes(data))
    for load in (lambda: load_checkpoint_file(path), lambda: Wide.load_from_checkpoint(path),
                 lambda: _trainer(tmp_path / "r").fit(Wide(), ckpt_path=str(path))):
        with pytest.raises(CorruptCheckpointError, match=r"ok\.ckpt is damaged: the bytes of tensor 'state_dict\.layer\.weight' do not match the CRC-32"):
            load()


# ------------------------------------------------------------------------------------------ messages
def test_corrupt_file_messages_hold_no_advice_from_torch_internals(tmp_path):
    import zipfile

    path = tmp_path / "bad.ckpt"
    with zipfile.ZipFile(path, "w") as zf:  # a zip torch opens, whose pickle is garbage
        zf.writestr("bad/data.pkl", b"\x80\x02}q\x00\xff.")
        zf.writestr("bad/byteorder", "little")
        zf.writestr("bad/version", "3\n")
    with pytest.raises(CorruptCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert "bad.ckpt could not be read" in message
    assert "file an issue" not in message.lower() and "weights_only" not in message and "In PyTorch 2.6" not in message


# ------------------------------------------------------------------------------------------ hparams_file
class WithHparams(BoringModel):
    def __init__(self, lr: float = 0.1, name: str = "a") -> None:
        super().__init__()
        self.save_hyperparameters()


def test_hparams_file_replaces_the_saved_hyperparameters_and_runs_no_code(tmp_path, monkeypatch):
    trainer = _trainer(tmp_path, enable_checkpointing=False, limit_train_batches=1)
    trainer.fit(WithHparams(lr=0.1))
    path = tmp_path / "m.ckpt"
    trainer.save_checkpoint(path)
    yaml_file = tmp_path / "hparams.yaml"
    yaml_file.write_text("lr: 0.5\nname: from_yaml\n")
    model = WithHparams.load_from_checkpoint(path, hparams_file=yaml_file)
    assert (model.hparams.lr, model.hparams.name) == (0.5, "from_yaml")
    assert WithHparams.load_from_checkpoint(path, hparams_file=yaml_file, name="kw").hparams.name == "kw"
    csv_file = tmp_path / "tags.csv"
    csv_file.write_text("key,value\nlr,0.25\nname,from_csv\n")
    assert WithHparams.load_from_checkpoint(path, hparams_file=csv_file).hparams.lr == 0.25

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"lr: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ValueError, match=r"evil\.yaml.*is not plain YAML \(line 1\).*tags that build Python objects are refused"):
        WithHparams.load_from_checkpoint(path, hparams_file=evil)
    assert not marker.exists()
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml.* does not exist"):
        WithHparams.load_from_checkpoint(path, hparams_file=tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match=r"expected a \.yaml, \.yml or \.csv file"):
        WithHparams.load_from_checkpoint(path, hparams_file=tmp_path / "h.json")


# ------------------------------------------------------------------------------------------ unwritable folder
class CountsSteps(BoringModel):
    steps = 0

    def training_step(self, batch, batch_idx):
        CountsSteps.steps += 1
        return super().training_step(batch, batch_idx)


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_an_unwritable_checkpoint_folder_is_found_before_training(tmp_path, kind):
    folder = tmp_path / "ckpts"
    if kind == "file":
        folder.write_text("a file where the folder should be")
        reason = "a file is in its place"
    else:
        if os.geteuid() == 0:  # root writes anywhere except on a read-only mount
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(tmp_path)],
                                     capture_output=True).returncode == 0
            if not mounted:
                pytest.skip("root ignores folder permissions and no read-only mount can be made here")
            reason = "it is on a read-only file system"
        else:
            folder.mkdir()
            folder.chmod(0o500)
            reason = "permission denied"
            mounted = False
    CountsSteps.steps = 0
    try:
        with pytest.raises(CheckpointWriteError, match=rf"Checkpoints cannot be written to {folder}: {reason}.*before training"):
            _trainer(tmp_path / "root", callbacks=[ModelCheckpoint(dirpath=folder)]).fit(CountsSteps())
        assert CountsSteps.steps == 0
    finally:
        if kind != "file" and mounted:
            subprocess.run(["umount", str(tmp_path)], check=True)


_KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    import runtime as pl
    from runtime.callbacks import ModelCheckpoint
    from runtime.demos.boring_classes import BoringModel

    class Better(BoringModel):
        def training_step(self, batch, batch_idx):
            self.log("score", float(-self.global_step))  # every step is the new best: each save replaces one
            return super().training_step(batch, batch_idx)

    class KilledAtRemoval(ModelCheckpoint):
        def _remove_checkpoint(self, trainer, filepath):
            if sys.argv[3] == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            ModelCheckpoint._remove_checkpoint(trainer, filepath)
            os.kill(os.getpid(), signal.SIGKILL)

    ckpt = KilledAtRemoval(dirpath=sys.argv[2], every_n_train_steps=1, save_top_k=1, monitor="score", save_last=True)
    pl.Trainer(default_root_dir=sys.argv[2], logger=False, enable_progress_bar=False, enable_model_summary=False,
               max_steps=5, limit_val_batches=0, callbacks=[ckpt]).fit(Better())
""")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_around_a_removal_leaves_at_most_one_untracked_file_and_no_missing_one(tmp_path, when):
    folder = tmp_path / "ckpts"
    run = subprocess.run([sys.executable, "-c", _KILLED_RUN, REPO, str(folder), when], capture_output=True, text=True, timeout=300)
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    state = next(v for k, v in load_checkpoint_file(folder / "last.ckpt")["callbacks"].items() if k.startswith("KilledAtRemoval"))
    tracked = {state["best_model_path"], state["last_model_path"], *state["best_k_models"]} - {""}
    assert all(os.path.exists(p) for p in tracked), tracked  # the resumable state never names a deleted file
    on_disk = {str(p) for p in folder.glob("*.ckpt")}
    assert len(on_disk - tracked) <= 1, sorted(on_disk - tracked)


def test_a_size_mismatch_says_what_works_instead_of_strict_false(tmp_path):
    class Sized(BoringModel):
        def __init__(self, width: int = 2) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(32, width)

    trainer = _trainer(tmp_path, enable_checkpointing=False, limit_train_batches=1)
    trainer.fit(Sized())
    path = tmp_path / "sized.ckpt"
    trainer.save_checkpoint(path)
    with pytest.raises(RuntimeError, match=r"(?s)sized\.ckpt does not fit Sized: .*size mismatch") as info:
        Sized.load_from_checkpoint(path, width=3)
    message = str(info.value)
    assert "`strict=False` in load_from_checkpoint" not in message  # it fails the same way on shapes
    assert "unless a keyword overrides them" in message and "v.shape == own[k].shape" in message
    with pytest.raises(RuntimeError, match="size mismatch"):  # the advice was wrong: strict=False does not help
        Sized.load_from_checkpoint(path, width=3, strict=False)


def test_a_datamodule_takes_hparams_file_too(tmp_path):
    from runtime.demos.boring_classes import BoringDataModule

    class DM(BoringDataModule):
        def __init__(self, batch: int = 4) -> None:
            super().__init__()
            self.save_hyperparameters()

    trainer = _trainer(tmp_path, enable_checkpointing=False, limit_train_batches=1)
    trainer.fit(BoringModel(), datamodule=DM())
    path = tmp_path / "dm.ckpt"
    trainer.save_checkpoint(path)
    (tmp_path / "dm.yaml").write_text("batch: 16\n")
    assert DM.load_from_checkpoint(path).hparams.batch == 4
    assert DM.load_from_checkpoint(path, hparams_file=tmp_path / "dm.yaml").hparams.batch == 16
