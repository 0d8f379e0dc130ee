"""What exact resumption needs besides weights: the random states and where the data stood.

A mid-epoch checkpoint stores the random states taken just before the epoch's data iterator was made
(they fix the shuffle order and the workers' seeds) and those at the moment of the save. Resuming
restores the first, rebuilds the iterator, fast-forwards it past the batches already trained on
(workers redo their augmentations, so their random streams line up), then restores the second.
Everything is stored as tensors, numbers and tuples, so it loads with ``weights_only=True``.
"""
from typing import Any

import torch

from runtime.utilities.seed import collect_rng_states, restore_rng_states


def rng_to_checkpoint(states: dict[str, Any]) -> dict[str, Any]:
    out = dict(states)
    if "numpy" in out:
        kind, keys, pos, has_gauss, gauss = out["numpy"]
        out["numpy"] = (kind, torch.from_numpy(keys.astype("int64")), int(pos), int(has_gauss), float(gauss))
    return out


def rng_from_checkpoint(states: dict[str, Any]) -> dict[str, Any]:
    out = dict(states)
    if "numpy" in out:
        import numpy as np

        kind, keys, pos, has_gauss, gauss = out["numpy"]
        out["numpy"] = (kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss)
    if "torch.cuda" in out and not torch.cuda.is_available():
        out.pop("torch.cuda")
    return out


def generator_states(loader: Any) -> dict[str, torch.Tensor]:
    """States of explicit ``torch.Generator``s a loader draws from (its own and its sampler's)."""
    found = {}
    for name, owner in (("loader", loader), ("sampler", getattr(loader, "sampler", None))):
        gen = getattr(owner, "generator", None)
        if isinstance(gen, torch.Generator):
            found[name] = gen.get_state()
    return found


def restore_generators(loader: Any, states: dict[str, torch.Tensor]) -> None:
    for name, owner in (("loader", loader), ("sampler", getattr(loader, "sampler", None))):
        gen = getattr(owner, "generator", None)
        if name in states and isinstance(gen, torch.Generator):
            gen.set_state(states[name])


class EpochStart:
    """The random state an epoch's data order was drawn from, captured right before ``iter(loader)``."""

    def __init__(self, loader: Any) -> None:
        self.rng = collect_rng_states()
        self.generators = generator_states(loader)

    def to_checkpoint(self) -> dict[str, Any]:
        return {"rng": rng_to_checkpoint(self.rng), "generators": self.generators}

    @classmethod
    def restore(cls, loader: Any, saved: dict[str, Any]) -> "EpochStart":
        restore_rng_states(rng_from_checkpoint(saved["rng"]))
        restore_generators(loader, saved.get("generators", {}))
        return cls(loader)
