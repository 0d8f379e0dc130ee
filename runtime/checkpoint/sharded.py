"""Sharded checkpoints: a folder where every process writes its own shards (torch.distributed.checkpoint).

``FSDPStrategy(state_dict_type="sharded")`` writes one: no process ever holds the whole model. The
folder (named like a file, ``epoch=0-step=3.ckpt/``) holds the shard files and their ``.metadata``
written by ``torch.distributed.checkpoint.save``, plus ``meta.pt``: everything else the checkpoint
carries (progress, callbacks, schedulers, hyperparameters). It is written under ``NAME.partial`` and
renamed into place when complete, so a folder under the final name is always a whole checkpoint.

Any number of FSDP processes loads it shard by shard (``load_into``); one process, or DDP, loads it
whole (``consolidate``), with the optimizer state turned back into the single-device format.

Nothing in the folder runs code when it is read. torch unpickles ``.metadata`` with plain ``pickle``
and the non-tensor entries (an optimizer's ``param_groups``) with ``torch.load(weights_only=False)``;
here ``.metadata`` goes through an unpickler that builds only torch's checkpoint-metadata classes, and
every entry loads with ``weights_only=True``. Both readers are passed to torch on every load path.
"""
import io
import os
import pickle
from typing import Any

import torch

from runtime.checkpoint.files import CorruptCheckpointError, UnsafeCheckpointError, atomic_save, load_file, remove_path

META = "meta.pt"
_TENSORS = ("state_dict", "optimizer_states")


class LoadedInPlace(dict):
    """Stands where a loaded state dict would be: the values already went straight into the shards."""


class OptimizerStatesInFolder(dict):
    """Stands where the optimizer states would be when the folder was read before the optimizers existed (a
    resume reads the weights before ``configure_optimizers``): ``load_optimizers_into`` reads them later."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.loaded = False


def is_sharded(path: str | os.PathLike) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, ".metadata"))


def save(checkpoint: dict[str, Any], path: str, strategy) -> None:
    """Every rank writes its shards of ``state_dict`` / ``optimizer_states``; global rank zero writes the rest."""
    import torch.distributed.checkpoint as dcp

    tensors = {k: checkpoint[k] for k in _TENSORS if k in checkpoint}
    meta = {k: v for k, v in checkpoint.items() if k not in _TENSORS}
    meta["sharded_checkpoint"] = {"writer": "torch.distributed.checkpoint", "optimizers": len(tensors.get("optimizer_states", []))}
    partial = f"{path}.partial"
    if strategy.is_global_zero:
        remove_path(partial)
        os.makedirs(partial)
    strategy.barrier("sharded_checkpoint_dir")
    dcp.save(tensors, checkpoint_id=partial)
    if strategy.is_global_zero:
        atomic_save(meta, os.path.join(partial, META))
        _replace(partial, path)


def load_into(path: str, module: torch.nn.Module) -> dict[str, Any]:
    """Read this rank's shards of the weights straight into the sharded ``module``; return the rest.

    The saved optimizer states stay in the folder (a resume reads the weights before ``configure_optimizers``
    builds the optimizers): the returned checkpoint holds an ``OptimizerStatesInFolder`` for each, which
    ``load_optimizers_into`` reads once the optimizers exist."""
    meta = _load_meta(path)
    saved_optimizers = meta.get("sharded_checkpoint", {}).get("optimizers", 0)
    target: dict[str, Any] = {"state_dict": module.state_dict()}
    # strict, as load_state_dict is, and decided from the files alone: every rank raises, none waits
    saved = {key.split(".", 1)[1] for key in read_metadata(path).state_dict_metadata if key.startswith("state_dict.")}
    mismatch = key_mismatch(target["state_dict"], saved)
    if mismatch:
        raise RuntimeError(
            f"Checkpoint {path} does not fit {type(module).__name__}: {mismatch}.\n"
            "Was it saved from another model, or with other hyperparameters?"
        )
    _read(path, module, target, [])
    meta["state_dict"] = LoadedInPlace()
    if saved_optimizers:
        later = OptimizerStatesInFolder(path)
        meta["optimizer_states"] = [later] * saved_optimizers
    return meta


def load_optimizers_into(states: OptimizerStatesInFolder, module: torch.nn.Module, optimizers: list) -> None:
    """Read this rank's shards of the saved optimizer states into ``optimizers`` (once for all of them)."""
    if not states.loaded:
        _read(states.path, module, {}, optimizers)
        states.loaded = True


def _read(path: str, module: torch.nn.Module, target: dict[str, Any], optimizers: list) -> None:
    """``dcp.load`` of ``target`` (and the optimizers' states) through the safe reader, then into the objects."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_model_state_dict, set_optimizer_state_dict

    if optimizers:
        target["optimizer_states"] = [get_optimizer_state_dict(module, opt) for opt in optimizers]
    try:
        dcp.load(target, storage_reader=_safe_reader(path), planner=_safe_planner(dcp.DefaultLoadPlanner, path))
    except BaseException as err:  # torch's CheckpointException is not an Exception
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        unsafe = _unsafe_cause(err)
        if unsafe is not None:
            raise unsafe from None
        raise RuntimeError(
            f"Checkpoint {path} could not be loaded into {type(module).__name__} and its optimizers: "
            f"{str(err).strip().splitlines()[-1]}"
        ) from None
    if "state_dict" in target:
        set_model_state_dict(module, target["state_dict"])
    for opt, state in zip(optimizers, target.get("optimizer_states", [])):
        set_optimizer_state_dict(module, opt, state)


def key_mismatch(expected: Any, found: Any) -> str:
    """What ``load_state_dict(strict=True)`` would object to, checked before any collective starts ("" if nothing)."""
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    return f"missing keys {missing}, unexpected keys {unexpected}" if missing or unexpected else ""


def consolidate(path: str, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
    """The whole checkpoint in one process, in the single-device format (as if saved with ``"full"``)."""
    from torch.distributed.checkpoint.default_planner import _EmptyStateDictLoadPlanner
    from torch.distributed.checkpoint.state_dict_loader import _load_state_dict

    from runtime.utilities.apply_func import apply_to_collection

    meta = _load_meta(path, weights_only, map_location)
    tensors: dict[str, Any] = {}
    # what torch's dcp_to_torch_save does, with safe readers, and in memory instead of through a temporary file
    try:
        _load_state_dict(tensors, storage_reader=_safe_reader(path), planner=_safe_planner(_EmptyStateDictLoadPlanner, path), no_dist=True)
    except BaseException as err:
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        unsafe = _unsafe_cause(err)
        if unsafe is not None:
            raise unsafe from None
        raise CorruptCheckpointError(f"Checkpoint {path} could not be read: {str(err).strip().splitlines()[-1]}") from None
    if isinstance(map_location, (str, torch.device)):
        tensors = apply_to_collection(tensors, torch.Tensor, lambda t: t.to(map_location))
    elif map_location is not None:  # a dict or a function: let torch.load apply it, as it would to a file
        buffer = io.BytesIO()
        torch.save(tensors, buffer)
        buffer.seek(0)
        tensors = torch.load(buffer, map_location=map_location, weights_only=True)
    meta.update(tensors)
    if "optimizer_states" in meta:
        meta["optimizer_states"] = [_index_keyed(state) for state in meta["optimizer_states"]]
    return meta


def _index_keyed(state: dict[str, Any]) -> dict[str, Any]:
    """torch's distributed optimizer state names parameters; ``Optimizer.load_state_dict`` counts them."""
    state = {"state": {}, **state}  # torch's flattening drops an empty state (SGD without momentum)
    order = [name for group in state["param_groups"] for name in group["params"]]
    if all(isinstance(name, int) for name in order):
        return state
    index = {name: i for i, name in enumerate(order)}
    return {
        "state": {index[name]: values for name, values in state["state"].items()},
        "param_groups": [{**group, "params": [index[n] for n in group["params"]]} for group in state["param_groups"]],
    }


# The classes torch writes into ``.metadata`` (torch.distributed.checkpoint.metadata / filesystem): the
# only globals the metadata unpickler resolves. Everything else is refused before it is looked up.
_METADATA_CLASSES = {
    ("torch.distributed.checkpoint.metadata", name)
    for name in ("Metadata", "MetadataIndex", "StorageMeta", "TensorStorageMetadata", "BytesStorageMetadata",
                 "ChunkStorageMetadata", "TensorProperties", "_MEM_FORMAT_ENCODING")
} | {
    ("torch.distributed.checkpoint.filesystem", "_StorageInfo"),
    ("torch.distributed.checkpoint._extension", "StreamTransformExtension"),
    ("torch", "Size"),
    ("torch.serialization", "_get_layout"),
    ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "PurePosixPath"), ("pathlib", "PureWindowsPath"),
    ("collections", "OrderedDict"),
}


class _MetadataUnpickler(pickle.Unpickler):
    def __init__(self, file, path: str) -> None:
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _METADATA_CLASSES or (module == "torch" and isinstance(getattr(torch, name, None), torch.dtype)):
            return super().find_class(module, name)
        raise _unsafe(self._path, f"`.metadata` names {module}.{name}")


def _unsafe(path: str, what: str) -> "UnsafeCheckpointError":
    return UnsafeCheckpointError(
        f"Checkpoint {path} is not a sharded checkpoint torch wrote: {what}, which could run code when loaded; "
        "it was not loaded. Use a checkpoint from a source you trust."
    )


def read_metadata(path: str):
    """The folder's ``.metadata``, unpickled with only torch's checkpoint-metadata classes allowed."""
    from torch.distributed.checkpoint.metadata import Metadata

    file = os.path.join(path, ".metadata")
    try:
        with open(file, "rb") as f:
            metadata = _MetadataUnpickler(f, path).load()
    except UnsafeCheckpointError:
        raise
    except Exception as err:
        raise CorruptCheckpointError(f"Checkpoint {path} could not be read: its .metadata is damaged ({type(err).__name__}: {err}).") from None
    if not isinstance(metadata, Metadata):
        raise CorruptCheckpointError(f"Checkpoint {path} could not be read: its .metadata holds a {type(metadata).__name__}, not torch's Metadata.")
    for info in (metadata.storage_data or {}).values():  # shard files live in the folder itself
        name = os.fspath(getattr(info, "relative_path", ""))
        if not name or os.path.basename(name) != name or name in (".", ".."):
            raise CorruptCheckpointError(f"Checkpoint {path} could not be read: its .metadata points outside the folder ({name!r}).")
    return metadata


def _safe_planner(base: type, path: str):
    """``base`` (a torch load planner) with the non-tensor entries loaded by ``torch.load(weights_only=True)``."""
    from torch.distributed.checkpoint._traverse import set_element

    class SafeLoadPlanner(base):
        def load_bytes(self, read_item, value) -> None:
            fqn = read_item.dest_index.fqn
            try:
                obj = torch.load(value, weights_only=True)
            except pickle.UnpicklingError:
                raise _unsafe(path, f"its entry {fqn!r} holds pickled objects") from None
            if self.flatten_state_dict:
                set_element(self.original_state_dict, self.mappings[fqn], obj)
            else:
                self.state_dict[fqn] = obj

    return SafeLoadPlanner()


def _safe_reader(path: str):
    """torch's folder reader, given ``.metadata`` as ``read_metadata`` read it (before torch touches the folder)."""
    from torch.distributed.checkpoint import FileSystemReader
    from torch.distributed.checkpoint.metadata import StorageMeta

    checked = read_metadata(path)

    class SafeReader(FileSystemReader):
        def read_metadata(self, *args: Any, **kwargs: Any):
            if getattr(checked, "storage_meta", None) is None:
                checked.storage_meta = StorageMeta()
            checked.storage_meta.load_id = self.load_id
            return checked

    return SafeReader(path)


def _unsafe_cause(err: BaseException) -> "UnsafeCheckpointError | None":
    """Our refusal inside whatever torch wrapped it in (a CheckpointException keeps (error, trace) per rank)."""
    todo: list[BaseException] = [err]
    while todo:
        e = todo.pop()
        if isinstance(e, UnsafeCheckpointError):
            return e
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]
        for failure in (getattr(e, "failures", None) or {}).values():
            failure = failure[0] if isinstance(failure, tuple) else failure
            if isinstance(failure, BaseException):
                todo.append(failure)
    return None


def _load_meta(path: str, weights_only: bool | None = True, map_location: Any = None) -> dict[str, Any]:
    meta = os.path.join(path, META)
    if not os.path.exists(meta):
        raise CorruptCheckpointError(
            f"Checkpoint {path} is a sharded checkpoint folder without its {META}: it was not written completely "
            "or was changed afterwards. Use another checkpoint."
        )
    return load_file(meta, map_location=map_location, weights_only=weights_only)


def _replace(partial: str, path: str) -> None:
    """Put the finished folder under ``path``; an older checkpoint there is moved aside first, then removed."""
    old = f"{path}.old"
    if os.path.lexists(path):
        remove_path(old)
        os.replace(path, old)
    os.replace(partial, path)
    remove_path(old)
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

