"""Gathering metric states across processes (torch.distributed), used only by ``Metric.compute``.

Every process calls the same collectives in the same order, including a process that saw no data:
states of different sizes (list states, one rank empty) are padded to the largest shape, gathered and
cut back, so no rank waits on a collective that another rank skipped.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor


def distributed_available() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1


def world_size(group: Any = None) -> int:
    return torch.distributed.get_world_size(group) if distributed_available() else 1


def gather_all_tensors(tensor: Tensor, group: Any = None) -> list[Tensor]:
    """``tensor`` from every process, in rank order; shapes may differ between processes (not ndim)."""
    dist = torch.distributed
    tensor = tensor.contiguous()
    n = dist.get_world_size(group)
    if tensor.ndim == 0:  # scalar states have the same shape everywhere: one collective
        out = [torch.empty_like(tensor) for _ in range(n)]
        dist.all_gather(out, tensor, group=group)
        return out
    local_shape = torch.tensor(tensor.shape, dtype=torch.long, device=tensor.device)
    shapes = [torch.zeros_like(local_shape) for _ in range(n)]
    dist.all_gather(shapes, local_shape, group=group)
    if all(bool((s == local_shape).all()) for s in shapes):
        out = [torch.empty_like(tensor) for _ in range(n)]
        dist.all_gather(out, tensor, group=group)
        return out
    max_shape = torch.stack(shapes).amax(0).tolist()
    padded = tensor.new_zeros(max_shape)
    padded[tuple(slice(0, d) for d in tensor.shape)] = tensor
    out = [torch.empty_like(padded) for _ in range(n)]
    dist.all_gather(out, padded, group=group)
    return [t[tuple(slice(0, int(d)) for d in shape)] for t, shape in zip(out, shapes)]


def _describe(value: Any) -> tuple | None:
    # what a rank knows about a list state's concatenation: None when its list is empty
    if isinstance(value, Tensor):
        return (tuple(value.shape[1:]) if value.ndim else (), str(value.dtype))
    if len(value) == 0:
        return None
    first = value[0]
    return (tuple(first.shape[1:]) if first.ndim else (), str(first.dtype))


def _concat_local(value: list, meta: tuple, device: torch.device) -> Tensor:
    if len(value) == 0:
        trailing, dtype = meta
        return torch.empty((0, *trailing), dtype=getattr(torch, dtype.split(".")[-1]), device=device)
    return torch.cat([v.reshape(1) if v.ndim == 0 else v for v in value], dim=0)


def sync_states(
    states: dict[str, Any],
    reductions: dict[str, Callable | str | None],
    group: Any = None,
    gather_fn: Callable[[Tensor, Any], list[Tensor]] | None = None,
    device: torch.device | None = None,
) -> dict[str, Any]:
    """Gather every state from every process and reduce it; returns the new states (inputs untouched)."""
    gather = gather_fn or gather_all_tensors
    # list states: agree on dtype and trailing shape first, so a rank with an empty list can contribute (0, ...)
    list_names = [k for k, v in states.items() if isinstance(v, list)]
    metas: dict[str, tuple | None] = {}
    if list_names:
        local = {k: _describe(states[k]) for k in list_names}
        everyone: list[Any] = [None] * torch.distributed.get_world_size(group)
        torch.distributed.all_gather_object(everyone, local, group=group)
        for k in list_names:
            metas[k] = next((m[k] for m in everyone if m[k] is not None), None)
    out: dict[str, Any] = {}
    for name, value in states.items():
        fx = reductions[name]
        if isinstance(value, list):
            if metas[name] is None:  # no process has any element
                out[name] = []
                continue
            gathered = gather(_concat_local(value, metas[name], device or torch.device("cpu")), group)
            out[name] = [torch.cat(gathered, dim=0)] if fx in ("cat", None) else [_reduce(torch.cat(gathered, 0), fx)]
            continue
        gathered = gather(value, group)
        if fx == "cat":
            out[name] = torch.cat([g.reshape(1) if g.ndim == 0 else g for g in gathered], dim=0)
        else:
            out[name] = _reduce(torch.stack(gathered), fx)
    return out


def _reduce(stacked: Tensor, fx: Callable | str | None) -> Tensor:
    if fx == "sum":
        return stacked.sum(0)
    if fx == "mean":
        return stacked.float().mean(0) if not stacked.is_floating_point() else stacked.mean(0)
    if fx == "max":
        return stacked.amax(0)
    if fx == "min":
        return stacked.amin(0)
    if fx is None:
        return stacked
    return fx(stacked)
