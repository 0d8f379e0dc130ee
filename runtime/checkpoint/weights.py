"""Weights in and out of a checkpoint dict, with no trainer involved (``load_from_checkpoint`` uses these too)."""
from typing import Any

import torch


def load_weights(model: torch.nn.Module, checkpoint: dict[str, Any], path: Any, strict: bool = True,
                 load: Any = None) -> None:
    """``load_state_dict`` (or the strategy's ``load``) with an error naming the file and the model when they do not fit."""
    if "state_dict" not in checkpoint:
        raise KeyError(f"Checkpoint {path} has no 'state_dict': it is not a training checkpoint.")
    try:
        if load is None:
            model.load_state_dict(checkpoint["state_dict"], strict=strict)
        else:
            load(checkpoint["state_dict"], strict=strict)
    except RuntimeError as err:
        raise RuntimeError(
            f"Checkpoint {path} does not fit {type(model).__name__}: {err}\nWas it saved from another model, or "
            "with other hyperparameters? (`strict=False` in load_from_checkpoint loads the matching part.)"
        ) from None


def clean_state_dict(state: dict) -> dict:
    """Strip the ``_orig_mod.`` prefix torch.compile adds, so checkpoints load into an uncompiled model."""
    if not any("_orig_mod." in k for k in state):
        return state
    return type(state)((k.replace("_orig_mod.", ""), v) for k, v in state.items())
