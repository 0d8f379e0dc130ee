"""Export a LightningModule for serving: TorchScript, ONNX, and ``torch.export``.

All three run the module in eval mode without gradients and put it back in the mode it was in.
Example inputs default to ``module.example_input_array`` and are moved to the module's device with
the module's own batch-transfer hooks, as Lightning does.

Example::

    script = to_torchscript(model, "model.pt")                       # torch.jit.script
    traced = to_torchscript(model, method="trace", example_inputs=torch.randn(1, 32))
    to_onnx(model, "model.onnx", torch.randn(1, 32))                 # needs `pip install onnx onnxscript`
    program = export(model, (torch.randn(1, 32),))                  # a torch.export.ExportedProgram
"""
import importlib.util
import os
import warnings
from contextlib import contextmanager
from typing import Any, Generator

import torch
from torch import nn

__all__ = ["export", "to_onnx", "to_torchscript"]

_METHODS = ("script", "trace")


@contextmanager
def _eval_no_grad(module: nn.Module) -> Generator[None, None, None]:
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)


def _example(module: nn.Module, given: Any, what: str) -> Any:
    if given is None:
        given = getattr(module, "example_input_array", None)
        if given is None:
            raise ValueError(
                f"{what} needs example inputs: pass them (e.g. `example_inputs=torch.randn(1, 32)`) or set "
                "`model.example_input_array` in the module's `__init__`."
            )
    return _to_module_device(module, given)


def _to_module_device(module: nn.Module, data: Any) -> Any:
    """Move ``data`` the way a batch is moved: the module's transfer hooks when it has them, else ``.to(device)``."""
    device = getattr(module, "device", None)
    if device is None:
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
    hooks = [getattr(module, n, None) for n in ("on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer")]
    if all(callable(h) for h in hooks):
        data = hooks[0](data, 0)
        data = hooks[1](data, device, 0)
        return hooks[2](data, 0)
    from runtime.utilities.apply_func import move_data_to_device

    return move_data_to_device(data, device)


@contextmanager
def _jit_is_scripting(module: nn.Module) -> Generator[None, None, None]:
    """Tell LightningModules that TorchScript is looking at them (their ``trainer`` may then be None)."""
    flagged = [m for m in module.modules() if hasattr(type(m), "_jit_is_scripting")]
    for m in flagged:
        m._jit_is_scripting = True
    try:
        yield
    finally:
        for m in flagged:
            m.__dict__.pop("_jit_is_scripting", None)


@contextmanager
def _quiet_jit_deprecation() -> Generator[None, None, None]:
    # recent torch versions warn that TorchScript is deprecated in favour of torch.export; the caller asked for it
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*(TorchScript|torch\.jit).*deprecat.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*(TorchScript|torch\.jit).*deprecat.*", category=FutureWarning)
        yield


def to_torchscript(module: nn.Module, file_path: str | os.PathLike | None = None, method: str = "script",
                   example_inputs: Any = None, **kwargs: Any) -> torch.jit.ScriptModule:
    """Compile ``module`` with ``torch.jit.script`` (default) or ``torch.jit.trace``; save it when ``file_path`` is given.

    ``kwargs`` go to ``torch.jit.script`` / ``torch.jit.trace``. Load the file with ``torch.jit.load``.
    """
    if method not in _METHODS:
        raise ValueError(f"The 'method' parameter only supports 'script' or 'trace', but value given was: {method!r}")
    with _eval_no_grad(module), _quiet_jit_deprecation(), _jit_is_scripting(module):
        if method == "script":
            compiled = torch.jit.script(module, **kwargs)
        else:
            inputs = _example(module, example_inputs, "to_torchscript(method='trace')")
            compiled = torch.jit.trace(module, example_inputs=inputs, **kwargs)
    if file_path is not None:
        with _quiet_jit_deprecation():
            torch.jit.save(compiled, os.fspath(file_path))
    return compiled


def _onnx_missing() -> list[str]:
    return [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]


def to_onnx(module: nn.Module, file_path: str | os.PathLike, input_sample: Any = None, **kwargs: Any) -> Any:
    """Export ``module`` to ONNX at ``file_path`` with ``torch.onnx.export`` (``kwargs`` go to it).

    ONNX is an optional extra: it needs the ``onnx`` and ``onnxscript`` packages (``pip install onnx onnxscript``).
    """
    missing = _onnx_missing()
    if missing:
        raise ModuleNotFoundError(
            f"`{type(module).__name__}.to_onnx()` needs the optional package(s) {' and '.join(missing)}, which are not "
            "installed. Install them with `pip install onnx onnxscript`."
        )
    with _eval_no_grad(module):
        inputs = _example(module, input_sample, "to_onnx")
        args = inputs if isinstance(inputs, tuple) else (inputs,)
        return torch.onnx.export(module, args, os.fspath(file_path), **kwargs)


def export(module: nn.Module, example_inputs: Any = None, **kwargs: Any) -> "torch.export.ExportedProgram":
    """``torch.export.export`` of the module's ``forward`` (in eval mode) on ``example_inputs``.

    ``example_inputs`` is a tuple of positional arguments (a single tensor is wrapped); it defaults to
    ``module.example_input_array``. ``kwargs`` go to ``torch.export.export`` (e.g. ``dynamic_shapes``).
    Save the result with ``torch.export.save(program, "model.pt2")``.
    """
    with _eval_no_grad(module):
        inputs = _example(module, example_inputs, "export")
        args = inputs if isinstance(inputs, tuple) else (inputs,)
        return torch.export.export(module, args, **kwargs)
