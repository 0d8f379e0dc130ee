"""Walk nested batches (lists, tuples, dicts, namedtuples, dataclasses) and apply a function to tensors."""
import dataclasses
from typing import Any, Callable

import torch


def apply_to_collection(data: Any, dtype: type | tuple, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    if isinstance(data, dtype):
        return fn(data, *args, **kwargs)
    if isinstance(data, dict):
        return type(data)({k: apply_to_collection(v, dtype, fn, *args, **kwargs) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(apply_to_collection(v, dtype, fn, *args, **kwargs) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(apply_to_collection(v, dtype, fn, *args, **kwargs) for v in data)
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        changes = {
            f.name: apply_to_collection(getattr(data, f.name), dtype, fn, *args, **kwargs)
            for f in dataclasses.fields(data)
            if f.init
        }
        return dataclasses.replace(data, **changes)
    return data


def move_data_to_device(batch: Any, device: torch.device | str) -> Any:
    """Move every tensor in ``batch`` to ``device`` (non-blocking from pinned memory)."""
    device = torch.device(device)

    def move(t: torch.Tensor) -> torch.Tensor:
        if t.device == device:
            return t
        return t.to(device, non_blocking=device.type == "cuda")

    return apply_to_collection(batch, torch.Tensor, move)
