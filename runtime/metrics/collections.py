"""``MetricCollection``: several metrics called with the same inputs, their values returned as one dict.

    metrics = MetricCollection([Accuracy(task="multiclass", num_classes=3), F1Score(task="multiclass", num_classes=3)],
                               prefix="train_")
    metrics(preds, target)                    # {"train_Accuracy": ..., "train_F1Score": ...} for this batch
    self.log_dict(metrics)                    # each metric object logged: epoch values computed, then reset
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from copy import deepcopy
from typing import Any, Iterable

from torch import nn

from runtime.metrics.metric import Metric


class MetricCollection(nn.ModuleDict):
    """A dict of metrics (by class name when given a list) that update, compute and reset together."""

    def __init__(self, metrics: Metric | Iterable[Metric] | dict[str, Metric], *additional_metrics: Metric,
                 prefix: str | None = None, postfix: str | None = None, compute_groups: Any = None) -> None:
        super().__init__()
        self.prefix = self._check_affix("prefix", prefix)
        self.postfix = self._check_affix("postfix", postfix)
        self.add_metrics(metrics, *additional_metrics)

    @staticmethod
    def _check_affix(name: str, value: str | None) -> str | None:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"`{name}` must be a string or None, got {value!r}.")
        return value

    def add_metrics(self, metrics: Any, *additional_metrics: Metric) -> None:
        if isinstance(metrics, Metric):
            metrics = [metrics]
        if isinstance(metrics, dict):
            if additional_metrics:
                raise ValueError("MetricCollection: extra positional metrics cannot follow a dict of metrics.")
            items = list(metrics.items())
        else:
            items = [(type(m).__name__, m) for m in [*metrics, *additional_metrics]]
        for name, metric in items:
            if not isinstance(metric, (Metric, MetricCollection)):
                raise ValueError(f"MetricCollection: {name!r} is a {type(metric).__name__}, not a Metric.")
            if name in self._modules:
                raise ValueError(f"MetricCollection: two metrics are named {name!r}; pass a dict to name them.")
            self[name] = metric

    def _key(self, name: str) -> str:
        return f"{self.prefix or ''}{name}{self.postfix or ''}"

    def keys(self, keep_base: bool = False) -> list[str]:  # type: ignore[override]
        return list(self._modules) if keep_base else [self._key(k) for k in self._modules]

    def items(self, keep_base: bool = False) -> list[tuple[str, Metric]]:  # type: ignore[override]
        return [(k if keep_base else self._key(k), m) for k, m in self._modules.items()]

    @staticmethod
    def _filter_kwargs(metric: Metric, kwargs: dict) -> dict:
        # each metric gets the keyword arguments its update() accepts
        params = inspect.signature(metric.update).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return kwargs
        return {k: v for k, v in kwargs.items() if k in params}

    def forward(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._flatten({k: m(*args, **self._filter_kwargs(m, kwargs)) for k, m in self._modules.items()})

    def update(self, *args: Any, **kwargs: Any) -> None:
        for m in self._modules.values():
            m.update(*args, **self._filter_kwargs(m, kwargs))

    def compute(self) -> dict[str, Any]:
        return self._flatten({k: m.compute() for k, m in self._modules.items()})

    def _flatten(self, values: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in values.items():
            if isinstance(v, dict):  # a nested collection: its keys already carry its own affixes
                out.update({self._key(inner): val for inner, val in v.items()})
            else:
                out[self._key(k)] = v
        return out

    def reset(self) -> None:
        for m in self._modules.values():
            m.reset()

    def clone(self, prefix: str | None = None, postfix: str | None = None) -> MetricCollection:
        new = deepcopy(self)
        if prefix is not None:
            new.prefix = self._check_affix("prefix", prefix)
        if postfix is not None:
            new.postfix = self._check_affix("postfix", postfix)
        return new

    def persistent(self, mode: bool = True) -> None:
        for m in self._modules.values():
            m.persistent(mode)


# `self.log_dict(collection)` (Lightning's spelling) takes any Mapping: each prefixed name is logged with its
# metric object, so the epoch value is the metric computed over the epoch, not a mean of batch values.
Mapping.register(MetricCollection)
