"""DeepSpeed checkpoint folders read without a training engine, and without running code from them.

``convert_zero_checkpoint_to_fp32_state_dict(folder, "model.ckpt")`` (Lightning's function) writes one
ordinary checkpoint file: the full float32 weights rebuilt from every rank's ZeRO partitions, plus the
Trainer's keys the folder carries; ``Model.load_from_checkpoint("model.ckpt")`` and any strategy read it.

DeepSpeed's own readers unpickle with ``weights_only=False``; here every file goes through
``torch.load(weights_only=True)``, allowing only the plain data classes DeepSpeed writes into its files.
``deepspeed`` is imported when a function here is called, never at import.
"""
import importlib
import os
from contextlib import contextmanager
from typing import Any, Generator

import torch

__all__ = ["convert_zero_checkpoint_to_fp32_state_dict", "get_fp32_state_dict", "safe_load"]

# DeepSpeed's own keys in a model-states file, and the strategy's: not part of a Trainer checkpoint
ENGINE_KEYS = ("module", "buffer_names", "optimizer", "param_shapes", "frozen_param_shapes", "shared_params",
                "frozen_param_fragments", "lr_scheduler", "data_sampler", "random_ltd", "sparse_tensor_module_names",
                "csr_tensor_module_names", "skipped_steps", "global_steps", "global_samples", "dp_world_size",
                "mp_world_size", "checkpoint_parallel_dimensions", "ds_config", "ds_version", "deepspeed_checkpoint")


def deepspeed_data_classes() -> list:
    """DeepSpeed's classes that its checkpoint files hold as plain data (their state is set from a dict; no code runs)."""
    found = []
    for module, names in (("deepspeed.runtime.fp16.loss_scaler", ("LossScaler", "DynamicLossScaler")),
                          ("deepspeed.runtime.zero.config", ("ZeroStageEnum",)),
                          ("deepspeed.utils.tensor_fragment", ("fragment_address",))):
        try:
            imported = importlib.import_module(module)
        except ImportError:
            continue
        found += [getattr(imported, n) for n in names if hasattr(imported, n)]
    return found


def safe_load(path: Any, map_location: Any = None, mmap: bool | None = None, **_: Any) -> Any:
    """``torch.load`` of a DeepSpeed file with ``weights_only=True`` (whatever the caller asked for)."""
    with torch.serialization.safe_globals(deepspeed_data_classes()):
        try:
            return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
        except RuntimeError as err:
            if mmap and "mmap" in str(err):  # a file in torch's legacy format cannot be memory-mapped
                return torch.load(path, map_location=map_location, weights_only=True)
            raise


class _TorchWithSafeLoad:
    """``torch`` as DeepSpeed's converter sees it: everything torch has, with ``load`` replaced by ``safe_load``."""

    load = staticmethod(safe_load)

    def __getattr__(self, name: str) -> Any:
        return getattr(torch, name)


@contextmanager
def _safe_converter() -> Generator[Any, None, None]:
    from deepspeed.utils import zero_to_fp32

    saved = zero_to_fp32.torch
    zero_to_fp32.torch = _TorchWithSafeLoad()
    try:
        yield zero_to_fp32
    finally:
        zero_to_fp32.torch = saved


def _engine_folder(checkpoint_dir: str, tag: str | None) -> tuple[str, str]:
    """(the folder with ``latest``, the tag) for a folder that is either the checkpoint or its tag subfolder."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    if tag is None:
        latest = os.path.join(checkpoint_dir, "latest")
        if not os.path.isfile(latest):
            raise FileNotFoundError(
                f"{checkpoint_dir} is not a DeepSpeed checkpoint folder (no 'latest' file naming its tag); pass the "
                "folder DeepSpeedStrategy saved (e.g. 'epoch=0-step=10.ckpt/') or tag=..."
            )
        with open(latest, encoding="utf-8") as f:
            tag = f.read().strip()
    if not os.path.isdir(os.path.join(checkpoint_dir, tag)):
        raise FileNotFoundError(f"DeepSpeed checkpoint {checkpoint_dir} has no '{tag}' folder.")
    return checkpoint_dir, tag


def get_fp32_state_dict(checkpoint_dir: str, tag: str | None = None) -> dict[str, torch.Tensor]:
    """The full float32 weights of a ZeRO checkpoint folder (each rank's partitions put together), on the CPU."""
    folder, tag = _engine_folder(checkpoint_dir, tag)
    with _safe_converter() as zero_to_fp32:
        state = zero_to_fp32.get_fp32_state_dict_from_zero_checkpoint(folder, tag=tag)
    return {k.removeprefix("_forward_module."): v for k, v in state.items()}


def client_state(checkpoint_dir: str, tag: str | None = None) -> dict[str, Any]:
    """The Trainer's keys a DeepSpeed folder carries (progress, callbacks, hyperparameters, ...)."""
    folder, tag = _engine_folder(checkpoint_dir, tag)
    for name in ("mp_rank_00_model_states.pt", "zero_pp_rank_0_mp_rank_00_model_states.pt"):
        path = os.path.join(folder, tag, name)
        if os.path.isfile(path):
            states = safe_load(path, map_location="cpu")
            return {k: v for k, v in states.items() if k not in ENGINE_KEYS}
    raise FileNotFoundError(f"DeepSpeed checkpoint {folder} has no model-states file under '{tag}/'.")


def convert_zero_checkpoint_to_fp32_state_dict(checkpoint_dir: Any, output_file: Any, tag: str | None = None) -> dict[str, Any]:
    """Write the ZeRO checkpoint folder ``checkpoint_dir`` as one checkpoint file ``output_file`` (float32 weights
    in ``state_dict``, the Trainer's other keys as saved; no optimizer state) and return that checkpoint dict."""
    checkpoint = client_state(checkpoint_dir, tag)
    checkpoint["state_dict"] = get_fp32_state_dict(checkpoint_dir, tag)
    torch.save(checkpoint, os.fspath(output_file))
    return checkpoint
