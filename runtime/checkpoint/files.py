"""Checkpoint files: write one atomically, read one safely, with one clear error per problem.

Sharded folders (``sharded.py``) are built from these; ``io.py`` loads either kind from a path.

A checkpoint is written to a temporary file in the target folder, flushed and fsynced, then renamed
over the target: a crash mid-write leaves the previous file intact, never a truncated one.

Reading uses ``torch.load(weights_only=True)``: tensors, numbers, strings and containers only, so a
file cannot run code when it is opened. Everything the runtime writes loads that way. A file that
needs more (a pickled class of the user's) is refused with a message on how to opt in for a file
you trust.

Before that, every entry of the file (a zip archive) is checked against the CRC-32 stored with it,
which ``torch.load`` does not do: one flipped bit in a tensor is an error naming the tensor, not a
weight that silently became 1e38. It reads the file once more (from the page cache, just before
torch reads it); ``bench/checkpoint_stall.py --load`` measures the cost.
"""
import errno
import os
import pickle
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from runtime.utilities.parsing import AttributeDict


def atomic_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` so that readers only ever see the old file or the complete new one.

    The file gets the mode a plain ``open`` would give it (``0o666`` less the umask). A failed write
    leaves no temporary behind and raises ``CheckpointWriteError`` naming ``path`` (and saying so when
    the disk is full); ``path`` itself is untouched."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_writer_tag()}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _write_error(path, err) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600: follow the umask, as logs and torch.save do
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(err, (OSError, RuntimeError)):
            raise _write_error(path, err) from None
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


class CheckpointWriteError(OSError):
    """A checkpoint could not be written; the message names the file and the reason."""


def check_writable_folder(folder: str | os.PathLike) -> None:
    """Raise ``CheckpointWriteError`` now if checkpoints cannot be written into ``folder`` (read-only, a file in
    its place, no permission), rather than after the first epoch: it is created, and a probe file made and
    removed (once per fit, not per step)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".write_test.{_writer_tag()}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        if isinstance(err, (FileExistsError, NotADirectoryError)) or (folder.exists() and not folder.is_dir()):
            reason = "a file is in its place (or in the place of a folder above it)"
        elif err.errno == errno.EROFS:
            reason = "it is on a read-only file system"
        elif isinstance(err, PermissionError):
            reason = "permission denied"
        elif err.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = "the disk is full"
        else:
            reason = err.strerror or str(err)
        raise CheckpointWriteError(
            err.errno or errno.EIO,
            f"Checkpoints cannot be written to {folder}: {reason}. Checked before training, so no epoch is lost; "
            "pass a folder you can write: ModelCheckpoint(dirpath=...) or Trainer(default_root_dir=...).",
        ) from None


def _write_error(path: Path, err: BaseException) -> CheckpointWriteError:
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or (isinstance(err, RuntimeError) and _nearly_full(path.parent)):
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = 0
        quota = " or your quota is used up" if code == errno.EDQUOT else ""
        return CheckpointWriteError(
            errno.ENOSPC,
            f"Could not write checkpoint {path}: the disk is full{quota} ({free / 2**20:.1f} MiB free in {path.parent}). "
            "Free some space, keep fewer checkpoints (ModelCheckpoint(save_top_k=...)), or save them elsewhere "
            "(ModelCheckpoint(dirpath=...)). Nothing was written; earlier checkpoints are intact.",
        )
    if isinstance(err, PermissionError) or code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "the folder is read-only" if code == errno.EROFS else "permission denied"
        return CheckpointWriteError(code, f"Could not write checkpoint {path}: {reason} ({err.strerror or err}).")
    text = str(err).strip()
    detail = getattr(err, "strerror", None) or (text.splitlines()[0] if text else type(err).__name__)
    return CheckpointWriteError(code or errno.EIO, f"Could not write checkpoint {path}: {detail}.")


def _nearly_full(folder: Path) -> bool:
    """torch's own file writer reports a full disk as "unexpected pos": tell by what is left."""
    try:
        return shutil.disk_usage(folder).free < 2**20
    except OSError:
        return False


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` sets it, racing other threads)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _writer_tag() -> str:
    """``host-pid`` in temporary names, so a later start can tell its own dead writers' leftovers."""
    return f"{_host()}-{os.getpid()}"


def _host() -> str:
    import socket  # lazy: only when a checkpoint is written

    return socket.gethostname().replace(".", "_")


_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<host>[^.]+)-(?P<pid>\d+)\.[^.]+\.tmp")


def remove_stale_temporaries(folder: str | os.PathLike) -> list[str]:
    """Remove the temporary files that writers on this machine left in ``folder`` when they were killed
    (their process is gone); a live writer's, or another machine's, are left alone. Returns the removed paths."""
    removed = []
    host = _host()
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TEMPORARY.fullmatch(name)
        if not m or m["host"] != host or _alive(int(m["pid"])):
            continue
        try:
            os.remove(os.path.join(folder, name))
            removed.append(os.path.join(folder, name))
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _legacy_attribute_dict(module: str) -> type:
    """A stand-in for Lightning's ``AttributeDict`` class at ``module``, so Lightning's checkpoints load
    with ``weights_only=True`` (and without Lightning installed)."""
    return type("AttributeDict", (AttributeDict,), {"__module__": module, "__qualname__": "AttributeDict"})


_SAFE_GLOBALS = [
    _legacy_attribute_dict("lightning.fabric.utilities.data"),
    _legacy_attribute_dict("lightning_fabric.utilities.data"),
    _legacy_attribute_dict("pytorch_lightning.utilities.parsing"),
    _legacy_attribute_dict("lightning.pytorch.utilities.parsing"),
    _legacy_attribute_dict("runtime.core.hparams"),  # where AttributeDict lived before runtime.utilities.parsing
    AttributeDict,
]


def remove_path(path: str | os.PathLike) -> None:
    """Remove a checkpoint file, a link to one, or a sharded checkpoint's folder; nothing if it is not there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def load_file(path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
    """Load a checkpoint dict from the file ``path`` (``io.load_checkpoint_file`` takes sharded folders too).

    ``weights_only=True`` (the default) refuses pickled code; pass ``weights_only=False`` only for a
    file you trust. Missing, truncated, corrupt and unsafe files each raise one error naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint not found: {path}. Pass the path of an existing .ckpt file.")
    weights_only = True if weights_only is None else weights_only
    damaged = damaged_entries(path)
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            checkpoint = torch.load(path, map_location=map_location, weights_only=weights_only)
    except Exception as err:
        if damaged:  # the damage explains the failure better than the unpickler does
            raise CorruptCheckpointError(_damage_report(path, damaged, {})) from None
        _raise_load_error(path, err, weights_only)
    if damaged:
        raise CorruptCheckpointError(_damage_report(path, damaged, checkpoint))
    if not isinstance(checkpoint, dict):
        raise CorruptCheckpointError(f"Checkpoint {path} holds a {type(checkpoint).__name__}, not a checkpoint dict.")
    return checkpoint


def _raise_load_error(path: Path, err: Exception, weights_only: bool) -> None:
    """One error naming the file: unsafe (refused unpickling) or corrupt, with torch's finding in its first
    sentence only (not its advice about its own internals: "Please file an issue ...", "re-run with
    weights_only=False")."""
    text = str(err)
    if text.startswith("Weights only load failed"):  # torch's paragraph of advice, then its finding
        if "WeightsUnpickler error:" in text:
            text = "\n" + text.split("WeightsUnpickler error:", 1)[1]
        lines = [line.strip() for line in text.splitlines()[1:]]
        lines = [line for line in lines if line and not line.startswith(("Check the documentation", "Please file an issue", "("))]
        detail = lines[0] if lines else "not a plain checkpoint"
    else:
        detail = f"{type(err).__name__}: {text.strip().splitlines()[0]}" if text.strip() else type(err).__name__
    detail = re.split(r"(?<=[.?])\s", detail, maxsplit=1)[0].rstrip(".")
    if weights_only and isinstance(err, pickle.UnpicklingError) and re.search(r"global|reduce", detail, re.I):
        raise UnsafeCheckpointError(
            f"Checkpoint {path} holds pickled objects that could run code when loaded ({detail}); it was not "
            "loaded. If you trust this file, load it with `weights_only=False` (e.g. "
            "`Model.load_from_checkpoint(path, weights_only=False)` or `trainer.fit(model, ckpt_path=path, "
            "weights_only=False)`)."
        ) from None
    raise CorruptCheckpointError(
        f"Checkpoint {path} could not be read: the file is truncated, corrupt or not a checkpoint ({detail})."
    ) from None


def damaged_entries(path: str | os.PathLike) -> dict[str, bytes]:
    """The entries of a checkpoint file (a zip archive, as ``torch.save`` writes) whose bytes do not match
    the CRC-32 stored with them, with those bytes; empty when all match or the file is not a zip archive
    (then ``torch.load`` says what is wrong)."""
    import mmap
    import zipfile
    import zlib

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}
    damaged = {}
    with archive, open(path, "rb") as raw, mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)  # checksums straight over the mapped file: no copy of the bytes
        try:
            for info in archive.infolist():
                if info.compress_type != zipfile.ZIP_STORED:  # torch stores; anything else zipfile checks on read
                    continue
                header = bytes(view[info.header_offset:info.header_offset + zipfile.sizeFileHeader])
                if len(header) != zipfile.sizeFileHeader or header[:4] != zipfile.stringFileHeader:
                    damaged[info.filename] = b""
                    continue
                start = info.header_offset + zipfile.sizeFileHeader + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
                data = view[start:start + info.file_size]
                if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
                    damaged[info.filename] = bytes(data)  # kept to find the tensor it belongs to (error path only)
                data.release()
        finally:
            view.release()
    return damaged


def _damage_report(path: Path, damaged: dict[str, bytes], checkpoint: Any) -> str:
    """Which tensors (by their key in the checkpoint) hold the damaged bytes."""
    names = []
    storages = {entry: data for entry, data in damaged.items() if "/data/" in entry and data}
    for key, tensor in _tensors(checkpoint):
        raw = bytes(tensor.untyped_storage()) if tensor.device.type == "cpu" else b""
        if any(len(raw) == len(data) and raw == data for data in storages.values()):
            names.append(key)
    other = [entry.split("/", 1)[-1] for entry in damaged if entry not in storages]
    what = ", ".join([f"tensor {n!r}" for n in names] + [f"entry {e!r}" for e in other]) or ", ".join(damaged)
    return (f"Checkpoint {path} is damaged: the bytes of {what} do not match the CRC-32 checksum the file stores for "
            "them (the file changed on disk or in transfer after it was written). Use another checkpoint, or copy "
            "this one again.")


def _tensors(obj: Any, prefix: str = ""):
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _tensors(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _tensors(v, f"{prefix}.{i}" if prefix else str(i))


class CorruptCheckpointError(RuntimeError):
    """The file is truncated, damaged, or not a checkpoint."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The file needs arbitrary unpickling, refused unless the caller opts in with ``weights_only=False``."""
