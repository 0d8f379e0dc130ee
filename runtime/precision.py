"""Precision plugins: autocast, loss scaling, dtype conversion, and unscaling before clipping.

The loop only calls ``forward_context()``, ``backward``, ``optimizer_step`` and ``clip_gradients``;
which dtype or scaler is used is decided here, once.
"""
from contextlib import nullcontext
from functools import partial
from typing import Any, Callable

import torch

from runtime.utilities.apply_func import apply_to_collection
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice

_ALIASES = {
    "32": "32-true", 32: "32-true", "32-true": "32-true",
    "64": "64-true", 64: "64-true", "64-true": "64-true",
    "16": "16-mixed", 16: "16-mixed", "16-mixed": "16-mixed",
    "bf16": "bf16-mixed", "bf16-mixed": "bf16-mixed",
    "16-true": "16-true", "bf16-true": "bf16-true",
}
PRECISIONS = ("32-true", "64-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", 32, 64, 16, "32", "64", "16", "bf16")


class Precision:
    """Full float32: nothing to convert, no autocast, no scaler."""

    name = "32-true"
    dtype: torch.dtype | None = None  # parameters and floating inputs are cast to this when set
    autocasts = False  # whether forward_context() does anything (the step skips it when not)

    def __init__(self, device_type: str = "cpu") -> None:
        self.device_type = device_type

    def convert_module(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(dtype=self.dtype) if self.dtype is not None else module

    @property
    def casts_inputs(self) -> bool:
        """``convert_input`` changes floating tensors: every batch must go through it."""
        return self.dtype is not None

    def convert_input(self, data: Any) -> Any:
        if self.dtype is None:
            return data
        return apply_to_collection(data, torch.Tensor, lambda t: t.to(self.dtype) if t.is_floating_point() else t)

    def forward_context(self):
        return nullcontext()

    def pre_backward(self, loss: torch.Tensor) -> torch.Tensor:
        return loss

    def optimizer_step(self, optimizer, model, closure: Callable[[], Any], **kwargs: Any) -> Any:
        """Step ``optimizer``; ``closure`` runs inside (LBFGS may call it several times)."""
        closure = partial(self._wrap_closure, model, optimizer, closure)
        return optimizer.step(closure=closure, **kwargs) if kwargs else optimizer.step(closure=closure)

    def _wrap_closure(self, model, optimizer, closure: Callable[[], Any]) -> Any:
        result = closure()
        model._trainer._after_closure(optimizer)
        return result

    def unscale_gradients(self, optimizer) -> None: ...

    def clip_gradients(self, optimizer, clip_val: float | int, algorithm: str) -> None:
        if not clip_val or clip_val <= 0:
            return
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if algorithm == "value":
            torch.nn.utils.clip_grad_value_(params, clip_val)
        elif algorithm == "norm":
            torch.nn.utils.clip_grad_norm_(params, clip_val, foreach=True)
        else:
            raise MisconfigurationException(invalid_choice("gradient_clip_algorithm", algorithm, ("norm", "value")))

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


class DoublePrecision(Precision):
    name = "64-true"
    dtype = torch.float64


class HalfPrecision(Precision):
    """Parameters and inputs in float16 or bfloat16, no autocast."""

    def __init__(self, device_type: str = "cpu", dtype: torch.dtype = torch.float16) -> None:
        super().__init__(device_type)
        self.dtype = dtype
        self.name = "16-true" if dtype == torch.float16 else "bf16-true"


class MixedPrecision(Precision):
    """Autocast in the forward pass; with float16, a GradScaler scales the loss and unscales before clipping."""

    autocasts = True

    def __init__(self, device_type: str = "cpu", dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__(device_type)
        self.autocast_dtype = dtype
        self.name = "16-mixed" if dtype == torch.float16 else "bf16-mixed"
        self.scaler = torch.amp.GradScaler(device_type) if dtype == torch.float16 and device_type == "cuda" else None

    def forward_context(self):
        return torch.autocast(self.device_type, dtype=self.autocast_dtype)

    def pre_backward(self, loss: torch.Tensor) -> torch.Tensor:
        return self.scaler.scale(loss) if self.scaler is not None else loss

    def optimizer_step(self, optimizer, model, closure: Callable[[], Any], **kwargs: Any) -> Any:
        if self.scaler is None:
            return super().optimizer_step(optimizer, model, closure, **kwargs)
        if isinstance(optimizer, torch.optim.LBFGS):
            raise MisconfigurationException("precision='16-mixed' does not support LBFGS (its closure runs several times); use '32-true' or 'bf16-mixed'.")
        result = closure()
        self.scaler.unscale_(optimizer)  # so clipping and on_before_optimizer_step see true gradients
        model.trainer._after_closure(optimizer)
        if result is None and model.automatic_optimization:  # training_step returned None: nothing to apply
            return None
        out = self.scaler.step(optimizer, **kwargs)
        self.scaler.update()
        return out

    def state_dict(self) -> dict:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


def select_precision(precision, device_type: str) -> Precision:
    key = precision if not isinstance(precision, str) else precision.lower()
    if key not in _ALIASES:
        raise MisconfigurationException(invalid_choice("precision", precision, PRECISIONS))
    name = _ALIASES[key]
    if name == "32-true":
        return Precision(device_type)
    if name == "64-true":
        if device_type == "mps":
            raise MisconfigurationException("precision='64-true' is not supported on MPS; use '32-true'.")
        return DoublePrecision(device_type)
    if name == "16-true":
        return HalfPrecision(device_type, torch.float16)
    if name == "bf16-true":
        return HalfPrecision(device_type, torch.bfloat16)
    if name == "16-mixed":
        if device_type == "cpu":
            raise MisconfigurationException(
                "precision='16-mixed' needs a GPU (float16 autocast with a GradScaler); on the CPU use precision='bf16-mixed'."
            )
        return MixedPrecision(device_type, torch.float16)
    return MixedPrecision(device_type, torch.bfloat16)
