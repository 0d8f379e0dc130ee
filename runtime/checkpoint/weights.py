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
        if "size mismatch" in str(err):  # strict=False fails the same way on shapes: say what does work
            hint = ("Tensors of other shapes mean other hyperparameters: build the model as it was saved "
                    "(load_from_checkpoint does, from the file's hyper_parameters, unless a keyword overrides them), or "
                    "copy only the tensors that fit: `own = model.state_dict(); model.load_state_dict({k: v for k, v in "
                    "ckpt['state_dict'].items() if k in own and v.shape == own[k].shape}, strict=False)`.")
        else:
            hint = "Was it saved from another model? `strict=False` in load_from_checkpoint loads the keys that match."
        raise RuntimeError(f"Checkpoint {path} does not fit {type(model).__name__}: {err}\n{hint}") from None


def clean_state_dict(state: dict) -> dict:
    """Strip the ``_orig_mod.`` prefix torch.compile adds, so checkpoints load into an uncompiled model."""
    if not any("_orig_mod." in k for k in state):
        return state
    return type(state)((k.replace("_orig_mod.", ""), v) for k, v in state.items())
