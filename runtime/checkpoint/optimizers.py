"""Does a checkpoint's optimizer state fit the optimizers ``configure_optimizers`` returns now?

torch's ``Optimizer.load_state_dict`` copies the saved hyperparameters over the new optimizer's, so SGD's
state loaded into Adam leaves Adam without ``betas`` and fails at the first step (``KeyError: 'betas'``
deep inside ``torch.optim``). Checked here when the checkpoint is loaded, from the saved ``param_groups``
alone (the file does not name its optimizer class): once per resume, nothing per step.
"""
from __future__ import annotations

import inspect
from typing import Any

import torch

# settings every optimizer has, or that torch adds across versions and fills in when an older file is loaded
_COMMON = {"params", "lr", "initial_lr", "weight_decay", "foreach", "maximize", "capturable", "differentiable",
           "fused", "decoupled_weight_decay", "name"}


def _settings(keys: Any) -> set[str]:
    return {k for k in keys if k not in _COMMON}


def _guess(saved: set[str]) -> str | None:
    """The torch optimizer whose settings are ``saved`` (several share them: the first, by name)."""
    for name in sorted(dir(torch.optim)):
        cls = getattr(torch.optim, name)
        if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer:
            try:
                params = inspect.signature(cls.__init__).parameters
            except (TypeError, ValueError):
                continue
            if _settings(params) - {"self"} == saved:
                return name
    return None


def check_optimizer_states(path: Any, saved_states: list, optimizers: list) -> None:
    """Raise ``ValueError`` naming the checkpoint and both optimizers when the saved states do not fit."""
    if len(saved_states) != len(optimizers):
        raise ValueError(
            f"Checkpoint {path} holds the state of {len(saved_states)} optimizer(s), but configure_optimizers returns "
            f"{len(optimizers)} ({', '.join(type(o).__name__ for o in optimizers) or 'none'}). Resume with the optimizers "
            "it was saved with, or start from its weights only: Model.load_from_checkpoint(path), then fit without ckpt_path."
        )
    for index, (state, optimizer) in enumerate(zip(saved_states, optimizers)):
        groups = state.get("param_groups") if isinstance(state, dict) else None
        if not groups:  # loaded in place already (sharded), or not in torch's format: the strategy decides
            continue
        ours = type(optimizer).__name__
        saved = _settings(k for g in groups for k in g)
        current = _settings(k for g in optimizer.param_groups for k in g)
        which = f"optimizer {index}" if len(optimizers) > 1 else "the optimizer"
        if saved != current:
            guess = _guess(saved)
            theirs = f"{guess} (settings {sorted(saved)})" if guess else f"another optimizer (settings {sorted(saved)})"
            raise ValueError(
                f"Checkpoint {path} was saved with {theirs} as {which}, but configure_optimizers now returns {ours} "
                f"(settings {sorted(current)}); its state cannot be loaded into {ours}. Resume with {guess or 'the optimizer it was saved with'}, "
                "or start from its weights only: Model.load_from_checkpoint(path), then fit without ckpt_path."
            )
        sizes = [len(g["params"]) for g in groups]
        ours_sizes = [len(g["params"]) for g in optimizer.param_groups]
        if sizes != ours_sizes:
            raise ValueError(
                f"Checkpoint {path}: {which} ({ours}) was saved with parameter groups of {sizes} parameters, but "
                f"configure_optimizers now gives {ours_sizes}. Resume with the same parameter groups, or start from "
                "its weights only: Model.load_from_checkpoint(path), then fit without ckpt_path."
            )
