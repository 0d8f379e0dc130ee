"""``Perplexity`` for language models: exp of the mean negative log-likelihood of the target tokens."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from runtime.metrics.functional.text import perplexity_compute, perplexity_update
from runtime.metrics.metric import Metric


class Perplexity(Metric):
    """Perplexity of logits (N, T, V) against token ids (N, T); tokens equal to ``ignore_index`` are skipped.

    >>> ppl = Perplexity(ignore_index=-100)
    >>> ppl(torch.zeros(2, 5, 8), torch.randint(8, (2, 5)))   # uniform logits
    tensor(8.)
    """

    higher_is_better = False

    def __init__(self, ignore_index: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
            raise ValueError(f"`ignore_index` must be an int or None, got {ignore_index!r}.")
        self.ignore_index = ignore_index
        self.add_state("total_log_probs", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        nll, count = perplexity_update(preds, target, self.ignore_index, self._deferred)
        self.total_log_probs += nll
        self.count += count

    def compute(self) -> Tensor:
        return perplexity_compute(self.total_log_probs, self.count).float()
