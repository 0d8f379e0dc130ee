"""The data of a model summary: layers to a depth, parameter counts, size; ``str()`` is the printed table."""
from typing import Any

import torch
from torch import nn

__all__ = ["ModelSummary", "Summary", "get_human_readable_count", "summarize"]


def _is_lazy(p: torch.Tensor) -> bool:
    return isinstance(p, nn.parameter.UninitializedParameter)


def _numel(params: Any) -> int:
    return sum(0 if _is_lazy(p) else p.numel() for p in params)


def get_human_readable_count(number: int) -> str:
    """``1234567`` -> ``"1.2 M"`` (Lightning's spelling: K, M, B, T)."""
    labels = ["", "K", "M", "B", "T"]
    n = float(number)
    i = 0
    while abs(n) >= 1000 and i < len(labels) - 1:
        n /= 1000.0
        i += 1
    if i == 0:
        return f"{int(number)}"
    return f"{n:,.1f} {labels[i]}"


class ModelSummary:
    """The data of a model summary: one row per submodule up to ``max_depth`` and the totals.

    ``str(summary)`` is the printed table. ``max_depth=-1`` lists every submodule, 0 none.
    """

    def __init__(self, model: nn.Module, max_depth: int = 1) -> None:
        if not isinstance(max_depth, int) or max_depth < -1:
            raise ValueError(f"max_depth={max_depth!r} must be an int >= -1 (-1: every layer, 0: none)")
        self._model = model
        self._max_depth = max_depth
        rows = []
        if max_depth != 0:
            for name, module in model.named_modules():
                if not name:
                    continue
                if max_depth != -1 and name.count(".") >= max_depth:
                    continue
                rows.append((name, module))
        self.layer_names = [name for name, _ in rows]
        self.layer_types = [type(m).__name__ for _, m in rows]
        self.param_nums = [_numel(m.parameters()) for _, m in rows]
        self.training_modes = [m.training for _, m in rows]
        # parameters() yields a shared parameter once, so the totals count it once
        params = list(model.parameters())
        self.total_parameters = _numel(params)
        self.trainable_parameters = _numel(p for p in params if p.requires_grad)
        self.has_lazy_parameters = any(_is_lazy(p) for p in params)
        size_bytes = sum(0 if _is_lazy(p) else p.numel() * p.element_size() for p in params)
        self.model_size = size_bytes / 1e6  # MB as Lightning reports it (1e6 bytes)

    @property
    def max_depth(self) -> int:
        return self._max_depth

    @property
    def non_trainable_parameters(self) -> int:
        return self.total_parameters - self.trainable_parameters

    def __str__(self) -> str:
        lines = []
        if self.layer_names:
            header = ["", "Name", "Type", "Params", "Mode"]
            body = [
                [str(i), name, typ, get_human_readable_count(n), "train" if mode else "eval"]
                for i, (name, typ, n, mode) in enumerate(
                    zip(self.layer_names, self.layer_types, self.param_nums, self.training_modes)
                )
            ]
            widths = [max(len(r[c]) for r in [header] + body) for c in range(len(header))]

            def fmt(row: list[str]) -> str:
                return " | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()

            rows = [fmt(r) for r in body]
            rule = "-" * max(len(r) for r in [fmt(header)] + rows)
            lines += [fmt(header), rule, *rows, rule]
        lazy = " (plus uninitialized lazy parameters)" if self.has_lazy_parameters else ""
        col = 10
        lines.append(f"{get_human_readable_count(self.trainable_parameters):<{col}}Trainable params")
        lines.append(f"{get_human_readable_count(self.non_trainable_parameters):<{col}}Non-trainable params")
        lines.append(f"{get_human_readable_count(self.total_parameters):<{col}}Total params{lazy}")
        lines.append(f"{self.model_size:<{col}.3f}Total estimated model params size (MB)")
        return "\n".join(lines)

    __repr__ = __str__


def summarize(module: nn.Module, max_depth: int = 1) -> "ModelSummary":
    """Summarize ``module``'s layers down to ``max_depth`` (``print(summarize(model, 2))``)."""
    return ModelSummary(module, max_depth=max_depth)


Summary = ModelSummary  # the name the ModelSummary callback uses for this data
