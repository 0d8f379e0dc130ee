"""Sharded checkpoints: a folder where every process writes its own shards (torch.distributed.checkpoint).

``FSDPStrategy(state_dict_type="sharded")`` writes one: no process ever holds the whole model. The
folder (named like a file, ``epoch=0-step=3.ckpt/``) holds the shard files and their ``.metadata``
written by ``torch.distributed.checkpoint.save``, plus ``meta.pt``: everything else the checkpoint
carries (progress, callbacks, schedulers, hyperparameters). It is written under ``NAME.partial`` and
renamed into place when complete, so a folder under the final name is always a whole checkpoint.

Any number of FSDP processes loads it shard by shard (``load_into``); one process, or DDP, loads it
whole (``consolidate``), with the optimizer state turned back into the single-device format.
"""
import os
import tempfile
from typing import Any

import torch

from runtime.checkpoint.io import CorruptCheckpointError, atomic_save, load_checkpoint_file, remove_path

META = "meta.pt"
_TENSORS = ("state_dict", "optimizer_states")


class LoadedInPlace(dict):
    """Stands where a loaded state dict would be: the values already went straight into the shards."""


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


def load_into(path: str, module: torch.nn.Module, optimizers: list) -> dict[str, Any]:
    """Read this rank's shards straight into the sharded ``module`` (and ``optimizers``); return the rest."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_model_state_dict, set_optimizer_state_dict

    meta = _load_meta(path)
    saved_optimizers = meta.get("sharded_checkpoint", {}).get("optimizers", 0)
    optimizers = optimizers if saved_optimizers else []
    target: dict[str, Any] = {"state_dict": module.state_dict()}
    # strict, as load_state_dict is, and decided from the files alone: every rank raises, none waits
    saved = {key.split(".", 1)[1] for key in dcp.FileSystemReader(path).read_metadata().state_dict_metadata
             if key.startswith("state_dict.")}
    mismatch = key_mismatch(target["state_dict"], saved)
    if mismatch:
        raise RuntimeError(
            f"Checkpoint {path} does not fit {type(module).__name__}: {mismatch}.\n"
            "Was it saved from another model, or with other hyperparameters?"
        )
    if optimizers:
        target["optimizer_states"] = [get_optimizer_state_dict(module, opt) for opt in optimizers]
    try:
        dcp.load(target, checkpoint_id=path)
    except BaseException as err:  # torch's CheckpointException is not an Exception
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        raise RuntimeError(
            f"Checkpoint {path} could not be loaded into {type(module).__name__} and its optimizers: "
            f"{str(err).strip().splitlines()[-1]}"
        ) from None
    set_model_state_dict(module, target["state_dict"])
    for opt, state in zip(optimizers, target.get("optimizer_states", [])):
        set_optimizer_state_dict(module, opt, state)
    meta["state_dict"] = LoadedInPlace()
    if saved_optimizers:
        meta["optimizer_states"] = [LoadedInPlace() for _ in range(saved_optimizers)]
    return meta


def key_mismatch(expected: Any, found: Any) -> str:
    """What ``load_state_dict(strict=True)`` would object to, checked before any collective starts ("" if nothing)."""
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    return f"missing keys {missing}, unexpected keys {unexpected}" if missing or unexpected else ""


def consolidate(path: str, map_location: Any = None, weights_only: bool | None = True) -> dict[str, Any]:
    """The whole checkpoint in one process, in the single-device format (as if saved with ``"full"``)."""
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    meta = _load_meta(path, weights_only, map_location)
    with tempfile.TemporaryDirectory() as tmp:
        whole = os.path.join(tmp, "whole.pt")
        dcp_to_torch_save(path, whole)
        tensors = torch.load(whole, map_location=map_location, weights_only=True)
    meta.update(tensors)
    if "optimizer_states" in meta:
        meta["optimizer_states"] = [_index_keyed(state) for state in meta["optimizer_states"]]
    return meta


def _index_keyed(state: dict[str, Any]) -> dict[str, Any]:
    """torch's distributed optimizer state names parameters; ``Optimizer.load_state_dict`` counts them."""
    order = [name for group in state["param_groups"] for name in group["params"]]
    if all(isinstance(name, int) for name in order):
        return state
    index = {name: i for i, name in enumerate(order)}
    return {
        "state": {index[name]: values for name, values in state["state"].items()},
        "param_groups": [{**group, "params": [index[n] for n in group["params"]]} for group in state["param_groups"]],
    }


def _load_meta(path: str, weights_only: bool | None = True, map_location: Any = None) -> dict[str, Any]:
    meta = os.path.join(path, META)
    if not os.path.exists(meta):
        raise CorruptCheckpointError(
            f"Checkpoint {path} is a sharded checkpoint folder without its {META}: it was not written completely "
            "or was changed afterwards. Use another checkpoint."
        )
    return load_checkpoint_file(meta, map_location=map_location, weights_only=weights_only)


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

