"""Perplexity of a language model: exp(mean negative log-likelihood of the target tokens).

    >>> perplexity(torch.zeros(1, 3, 4), torch.tensor([[0, 1, 2]]))  # uniform over 4 tokens
    tensor(4.)
"""
from __future__ import annotations

import torch
from torch import Tensor

from runtime.metrics.utilities import check_integer_tensor, check_values


def perplexity_update(preds: Tensor, target: Tensor, ignore_index: int | None = None, deferred: dict | None = None) -> tuple[Tensor, Tensor]:
    """(sum of -log p(target), number of counted tokens) for logits ``preds`` (N, T, V) and ``target`` (N, T)."""
    if preds.ndim != 3:
        raise ValueError(f"`preds` must be logits of shape (batch, seq_len, vocab_size), got {tuple(preds.shape)}.")
    if target.ndim != 2 or preds.shape[:2] != target.shape:
        raise ValueError(f"`target` must be (batch, seq_len) = {tuple(preds.shape[:2])}, got {tuple(target.shape)}.")
    if not preds.is_floating_point():
        raise ValueError(f"`preds` must hold float logits, got dtype {preds.dtype}.")
    check_integer_tensor("target", target)
    vocab = preds.shape[-1]
    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    check_values(valid & ((target < 0) | (target >= vocab)), f"`target` holds token ids outside [0, vocab_size={vocab}).", deferred)
    valid = valid & (target >= 0) & (target < vocab)
    safe = torch.where(valid, target, torch.zeros_like(target)).long()
    log_probs = torch.log_softmax(preds.float(), dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    nll = -(log_probs * valid).sum()
    return nll, valid.sum()


def perplexity_compute(total: Tensor, count: Tensor) -> Tensor:
    return torch.exp(total / count)


def perplexity(preds: Tensor, target: Tensor, ignore_index: int | None = None) -> Tensor:
    """Perplexity of logits ``preds`` (N, T, V) against token ids ``target`` (N, T); ``ignore_index`` tokens are skipped."""
    return perplexity_compute(*perplexity_update(preds, target, ignore_index))
