"""Export: TorchScript (script and trace), ONNX (optional extra) and torch.export, checked by running the result."""
import importlib.util
import warnings

import pytest
import torch

from runtime.core.export import export, to_onnx, to_torchscript
from runtime.demos.boring_classes import BoringModel
from tests.runtime.helpers import make_trainer

HAS_ONNX = all(importlib.util.find_spec(n) is not None for n in ("onnx", "onnxscript"))


class ExampleModel(BoringModel):
    def __init__(self):
        super().__init__()
        self.example_input_array = torch.randn(3, 32)


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load is deprecated in recent torch
        return torch.jit.load(str(path))


@pytest.mark.parametrize("method", ["script", "trace"])
def test_to_torchscript_round_trip(tmp_path, method):
    model = ExampleModel()
    model.train()
    path = tmp_path / "model.pt"
    compiled = model.to_torchscript(path, method=method)
    assert model.training  # mode restored
    x = torch.randn(4, 32)
    with torch.no_grad():
        expected = model(x)
    torch.testing.assert_close(compiled(x), expected)
    torch.testing.assert_close(_load(path)(x), expected)


def test_to_torchscript_after_fit(tmp_path):
    model = BoringModel()
    make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=1).fit(model)
    compiled = to_torchscript(model, method="trace", example_inputs=torch.randn(1, 32))
    x = torch.randn(2, 32)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))


def test_to_torchscript_errors():
    with pytest.raises(ValueError, match="'script' or 'trace'"):
        to_torchscript(BoringModel(), method="compile")
    with pytest.raises(ValueError, match="example_input_array"):
        to_torchscript(BoringModel(), method="trace")


def test_torch_export_runs_forward():
    model = ExampleModel()
    program = export(model)
    assert isinstance(program, torch.export.ExportedProgram)
    x = torch.randn(3, 32)
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), model(x))
    assert model.training


@pytest.mark.skipif(HAS_ONNX, reason="onnx is installed: the missing-package error cannot show")
def test_to_onnx_without_onnx_names_the_install(tmp_path):
    with pytest.raises(ModuleNotFoundError, match="pip install onnx"):
        ExampleModel().to_onnx(tmp_path / "model.onnx")


@pytest.mark.skipif(not HAS_ONNX, reason="needs the optional onnx and onnxscript packages")
def test_to_onnx_writes_a_model(tmp_path):
    import onnx

    path = tmp_path / "model.onnx"
    to_onnx(ExampleModel(), path)
    onnx.checker.check_model(onnx.load(str(path)))
