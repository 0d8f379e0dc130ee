"""Accelerator / devices / precision selection, what each precision does to parameters, inputs and
outputs, and batches of any nesting going through the three transfer hooks."""
from collections import namedtuple
from dataclasses import dataclass

import pytest
import torch
from torch.utils.data import DataLoader

import runtime as pl
from runtime.demos.boring_classes import BoringModel, RandomDataset
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import make_trainer, random_loader

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


# ------------------------------------------------------------------ accelerator and devices
@pytest.mark.parametrize("accelerator", ["cpu", "auto"])
@pytest.mark.parametrize("devices", [1, "1", "auto"])
def test_cpu_accelerator_and_devices(tmp_path, accelerator, devices):
    if accelerator == "auto" and torch.cuda.is_available():
        pytest.skip("auto picks the GPU here")
    trainer = make_trainer(tmp_path, accelerator=accelerator, devices=devices, limit_train_batches=1,
                           limit_val_batches=0)
    assert trainer.num_devices == 1
    assert trainer.device_ids == [0]
    assert trainer.strategy.root_device == torch.device("cpu")
    assert type(trainer.accelerator).__name__ == "CPUAccelerator"
    model = BoringModel()
    trainer.fit(model)
    assert model.device == torch.device("cpu")


def test_default_accelerator_is_auto(tmp_path):
    trainer = make_trainer(tmp_path)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert trainer.strategy.root_device.type == expected


# ------------------------------------------------------------------ precision flag parsing
@pytest.mark.parametrize(
    ("flag", "expected"),
    [("32-true", "32-true"), (32, "32-true"), ("32", "32-true"), ("64-true", "64-true"), (64, "64-true"),
     ("64", "64-true"), ("bf16-mixed", "bf16-mixed"), ("bf16", "bf16-mixed"), ("bf16-true", "bf16-true"),
     ("16-true", "16-true")],
)
def test_precision_names_and_aliases(tmp_path, flag, expected):
    trainer = make_trainer(tmp_path, accelerator="cpu", precision=flag)
    assert trainer.precision == expected


def test_default_precision(tmp_path):
    assert make_trainer(tmp_path).precision == "32-true"


@pytest.mark.parametrize("flag", ["16-mixed", 16, "16"])
def test_fp16_mixed_on_cpu_points_to_bf16(tmp_path, flag):
    with pytest.raises((MisconfigurationException, ValueError), match="bf16-mixed"):
        make_trainer(tmp_path, accelerator="cpu", precision=flag)


# ------------------------------------------------------------------ what precision does
class DtypeModel(BoringModel):
    def __init__(self):
        super().__init__()
        self.seen = {}

    def training_step(self, batch, batch_idx):
        out = self(batch)
        self.seen["train"] = dict(batch=batch.dtype, param=self.layer.weight.dtype, out=out.dtype,
                                  default=torch.get_default_dtype())
        return self.loss(out)

    def validation_step(self, batch, batch_idx):
        out = self(batch)
        self.seen["val"] = dict(batch=batch.dtype, param=self.layer.weight.dtype, out=out.dtype)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch)


def _run(tmp_path, precision):
    model = DtypeModel()
    trainer = make_trainer(tmp_path, accelerator="cpu", precision=precision, limit_train_batches=2,
                           limit_val_batches=1, num_sanity_val_steps=0)
    trainer.fit(model, random_loader(), random_loader())
    preds = trainer.predict(model, random_loader(length=2))
    return model, preds


def test_32_true(tmp_path):
    model, preds = _run(tmp_path, "32-true")
    assert model.seen["train"] == dict(batch=torch.float32, param=torch.float32, out=torch.float32,
                                       default=torch.float32)
    assert preds[0].dtype == torch.float32


def test_64_true(tmp_path):
    model, preds = _run(tmp_path, "64-true")
    assert model.seen["train"]["param"] == torch.float64
    assert model.seen["train"]["batch"] == torch.float64  # float inputs converted
    assert model.seen["train"]["out"] == torch.float64
    assert model.seen["val"]["batch"] == torch.float64
    assert preds[0].dtype == torch.float64
    assert model.layer.weight.dtype == torch.float64
    assert torch.get_default_dtype() == torch.float32  # not leaked outside the run


def test_bf16_mixed_autocasts_on_cpu(tmp_path):
    model, preds = _run(tmp_path, "bf16-mixed")
    train = model.seen["train"]
    assert train["param"] == torch.float32  # weights stay in float32
    assert train["batch"] == torch.float32
    assert train["out"] == torch.bfloat16  # the Linear ran under autocast
    assert model.seen["val"]["out"] == torch.bfloat16
    assert preds[0].dtype == torch.bfloat16
    assert model.layer.weight.dtype == torch.float32
    assert not torch.is_autocast_enabled("cpu")


def test_bf16_mixed_trains(tmp_path):
    model = BoringModel()
    before = model.layer.weight.detach().clone()
    make_trainer(tmp_path, precision="bf16-mixed", limit_train_batches=2, limit_val_batches=0).fit(model)
    assert not torch.equal(before, model.layer.weight)
    assert model.layer.weight.dtype == torch.float32


@pytest.mark.parametrize(("precision", "dtype"), [("bf16-true", torch.bfloat16), ("16-true", torch.float16)])
def test_true_half_precisions(tmp_path, precision, dtype):
    model, preds = _run(tmp_path, precision)
    train = model.seen["train"]
    assert train["param"] == dtype
    assert train["batch"] == dtype
    assert train["out"] == dtype
    assert preds[0].dtype == dtype
    assert model.layer.weight.dtype == dtype


# ------------------------------------------------------------------ nested batches and transfer hooks
Point = namedtuple("Point", ["x", "y"])


@dataclass
class Pair:
    a: torch.Tensor
    b: list


def nested_collate(items):
    x = torch.stack(items)
    return {
        "list": [x, x + 1],
        "tuple": (x, torch.arange(len(items))),
        "nt": Point(x, x * 2),
        "dc": Pair(a=x, b=[x]),
        "number": 3,
        "text": "s",
    }


class NestedModel(BoringModel):
    def __init__(self):
        super().__init__()
        self.seen = []

    def training_step(self, batch, batch_idx):
        self.seen.append(batch)
        return self.step(batch["list"][0])

    def train_dataloader(self):
        return DataLoader(RandomDataset(32, 4), batch_size=2, collate_fn=nested_collate)


def _check_structure(batch, float_dtype=torch.float32, device="cpu"):
    assert isinstance(batch, dict)
    assert isinstance(batch["list"], list) and len(batch["list"]) == 2
    assert isinstance(batch["tuple"], tuple)
    assert type(batch["nt"]) is Point
    assert type(batch["dc"]) is Pair and isinstance(batch["dc"].b, list)
    assert batch["number"] == 3 and batch["text"] == "s"
    for t in [*batch["list"], batch["tuple"][0], batch["nt"].x, batch["nt"].y, batch["dc"].a, batch["dc"].b[0]]:
        assert t.dtype == float_dtype and t.device.type == device
    assert batch["tuple"][1].dtype == torch.int64  # integer tensors keep their dtype


def test_nested_batch_structure_is_kept(tmp_path):
    model = NestedModel()
    make_trainer(tmp_path, limit_val_batches=0).fit(model)
    assert len(model.seen) == 2
    for batch in model.seen:
        _check_structure(batch)


def test_nested_batch_is_converted_under_64_true(tmp_path):
    model = NestedModel()
    make_trainer(tmp_path, precision="64-true", limit_val_batches=0).fit(model)
    for batch in model.seen:
        _check_structure(batch, float_dtype=torch.float64)


def test_the_three_transfer_hooks(tmp_path):
    calls = []

    class Model(BoringModel):
        def on_before_batch_transfer(self, batch, dataloader_idx):
            calls.append(("before", dataloader_idx))
            return {"x": batch, "tag": "added-before"}

        def transfer_batch_to_device(self, batch, device, dataloader_idx):
            calls.append(("transfer", device, batch["tag"]))
            batch = super().transfer_batch_to_device(batch, device, dataloader_idx)
            batch["moved"] = True
            return batch

        def on_after_batch_transfer(self, batch, dataloader_idx):
            calls.append(("after", batch["moved"]))
            return batch["x"] * 0

        def training_step(self, batch, batch_idx):
            assert torch.count_nonzero(batch) == 0
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch, batch_idx):
            assert torch.count_nonzero(batch) == 0

        def predict_step(self, batch, batch_idx, dataloader_idx=0):
            assert torch.count_nonzero(batch) == 0
            return batch

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0)
    model = Model()
    trainer.fit(model, random_loader(), random_loader())
    assert calls == [
        ("before", 0), ("transfer", torch.device("cpu"), "added-before"), ("after", True),
        ("before", 0), ("transfer", torch.device("cpu"), "added-before"), ("after", True),
    ]
    calls.clear()
    trainer.predict(model, random_loader(length=2))
    assert [c[0] for c in calls] == ["before", "transfer", "after"]


def test_default_transfer_batch_to_device_handles_nested_batches():
    model = BoringModel()
    batch = nested_collate([torch.randn(32), torch.randn(32)])
    moved = model.transfer_batch_to_device(batch, torch.device("cpu"), 0)
    _check_structure(moved)


# ------------------------------------------------------------------ GPU only
@requires_cuda
@pytest.mark.gpu
@pytest.mark.parametrize("accelerator", ["gpu", "cuda", "auto"])
@pytest.mark.parametrize("devices", [1, [0], "0,", "auto"])
def test_cuda_accelerator(tmp_path, accelerator, devices):
    model = NestedModel()
    trainer = make_trainer(tmp_path, accelerator=accelerator, devices=devices, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.strategy.root_device == torch.device("cuda", 0)
    assert model.device.type == "cuda"
    for batch in model.seen:
        _check_structure(batch, device="cuda")


@requires_cuda
@pytest.mark.gpu
def test_16_mixed_on_cuda_uses_a_grad_scaler(tmp_path):
    seen = {}

    class Model(DtypeModel):
        def on_before_optimizer_step(self, optimizer):
            # gradients are unscaled before this hook (and before clipping)
            seen["grad_norm"] = float(torch.linalg.vector_norm(self.layer.weight.grad))

    model = Model()
    trainer = make_trainer(tmp_path, accelerator="cuda", precision="16-mixed", limit_train_batches=2,
                           limit_val_batches=0, gradient_clip_val=1e9)
    trainer.fit(model, random_loader())
    assert trainer.precision == "16-mixed"
    assert model.seen["train"]["out"] == torch.float16
    assert model.seen["train"]["param"] == torch.float32
    assert seen["grad_norm"] < 1e4  # not multiplied by the 65536 initial loss scale


@requires_cuda
@pytest.mark.gpu
def test_bf16_mixed_on_cuda(tmp_path):
    model = DtypeModel()
    make_trainer(tmp_path, accelerator="cuda", precision="bf16-mixed", limit_train_batches=1,
                 limit_val_batches=0).fit(model, random_loader())
    assert model.seen["train"]["out"] == torch.bfloat16


def test_more_cpu_processes_than_cores_are_refused_unless_asked(monkeypatch):
    """issue 15, item 11: devices=999 on the CPU started 999 processes."""
    import runtime as pl
    from runtime.accelerators import CPUAccelerator, cpu_cores
    from runtime.utilities.exceptions import MisconfigurationException

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    cores = cpu_cores()
    with pytest.raises(MisconfigurationException, match=rf"devices=999 would start 999 processes on the CPU, but this machine gives this process {cores} core.*oversubscribe=True"):
        pl.Trainer(accelerator="cpu", devices=999, logger=False)
    with pytest.raises(MisconfigurationException, match="would start"):
        pl.Trainer(accelerator="cpu", devices=str(cores + 1), logger=False)
    assert pl.Trainer(accelerator="cpu", devices=cores, logger=False).num_devices == cores
    trainer = pl.Trainer(accelerator=CPUAccelerator(oversubscribe=True), devices=cores + 1, logger=False)
    assert trainer.num_devices == cores + 1  # asked explicitly: allowed (nothing started until fit)
    monkeypatch.setenv("WORLD_SIZE", str(cores + 1))  # a launcher (torchrun, SLURM) started the processes already
    monkeypatch.setenv("LOCAL_RANK", "0")
    CPUAccelerator().parse_devices(cores + 1)
