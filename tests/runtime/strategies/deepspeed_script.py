"""Run by test_deepspeed.py / test_gpu_deepspeed.py in its own process (DeepSpeed keeps global state).

MODE=suite (default): ZeRO stage $STAGE, one process: the same training on one plain process, a
DeepSpeed run of 6 steps, and one of 4 steps resumed from its checkpoint folder to 6; writes $ROOT/out.pt.
OFFLOAD=1 uses the ``_offload`` names (optimizer, and for stage 3 parameters, in CPU memory).
MODE=two: ZeRO stage $STAGE over 2 processes (this script is started again for rank 1), 2 samples per
rank; each rank writes $ROOT/out_RANK.pt. MODE=single4: one plain process, 4 samples a batch (the
global batch of MODE=two); writes $ROOT/out.pt. ACCELERATOR (cpu | gpu) and PRECISION pick the hardware.
"""
import os

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from runtime.strategies import deepspeed as ds

ROOT = os.environ["ROOT"]
STAGE = int(os.environ.get("STAGE", "2"))
MODE = os.environ.get("MODE", "suite")
ACCELERATOR = os.environ.get("ACCELERATOR", "cpu")
PRECISION = os.environ.get("PRECISION", "32-true")
OFFLOAD = os.environ.get("OFFLOAD") == "1"  # the *_offload strategy names (a GPU: DeepSpeed offloads from CUDA)
NAME = f"deepspeed_stage_{STAGE}" + ("_offload" if OFFLOAD else "")


class Net(pl.LightningModule):
    def __init__(self, batch_size: int = 2) -> None:
        super().__init__()
        self.save_hyperparameters()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
        generator = torch.Generator().manual_seed(1)
        self.data = TensorDataset(torch.randn(32, 6, generator=generator), torch.randn(32, 3, generator=generator))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x).float(), y.float())
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self(x).float(), y.float()))

    def configure_optimizers(self):
        if OFFLOAD and isinstance(self.trainer.strategy, ds.DeepSpeedStrategy):  # offload steps on the CPU: DeepSpeed's Adam
            from deepspeed.ops.adam import DeepSpeedCPUAdam

            optimizer = DeepSpeedCPUAdam(self.parameters(), lr=0.05)
        else:
            optimizer = torch.optim.Adam(self.parameters(), lr=0.05)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5),
                                                        "interval": "step"}}

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)

    def val_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)


def fit(strategy: str, steps: int, root: str, ckpt: str | None = None, devices: int = 1, batch_size: int = 2,
        precision: str = PRECISION):
    model = Net(batch_size)
    trainer = pl.Trainer(strategy=strategy, accelerator=ACCELERATOR, devices=devices, max_steps=steps, precision=precision,
                         limit_train_batches=8, limit_val_batches=2, accumulate_grad_batches=2, gradient_clip_val=0.5,
                         logger=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=os.path.join(ROOT, root))
    trainer.fit(model, ckpt_path=ckpt)
    return trainer, model


def weights(model) -> dict:
    """Full float32 weights on the CPU (ZeRO-3 holds partitions: gathered to read)."""
    if STAGE == 3 and isinstance(getattr(model.trainer, "strategy", None), ds.DeepSpeedStrategy):
        import deepspeed

        with deepspeed.zero.GatheredParameters(list(model.parameters())):
            return {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}
    return {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}


def partition_sizes(trainer) -> list[int]:
    """How many parameter elements this rank's optimizer holds (ZeRO 1-2: flat fp32 partitions; 3: ds_tensor)."""
    optimizer = trainer.strategy.deepspeed_engine.optimizer
    flat = getattr(optimizer, "single_partition_of_fp32_groups", None)
    if flat:
        return [p.numel() for p in flat]
    return [p.ds_tensor.numel() for p in trainer.lightning_module.parameters()]


class Manual(Net):
    def __init__(self, batch_size: int = 2) -> None:
        super().__init__(batch_size)
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        x, y = batch
        loss = nn.functional.mse_loss(self(x).float(), y.float())
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()


def manual(strategy: str):
    model = Manual()
    trainer = pl.Trainer(strategy=strategy, accelerator=ACCELERATOR, devices=1, max_steps=3, precision=PRECISION,
                         limit_val_batches=0, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False, default_root_dir=os.path.join(ROOT, "manual"))
    trainer.fit(model)
    return weights(model)


if MODE == "suite":
    from runtime.utilities.deepspeed import convert_zero_checkpoint_to_fp32_state_dict

    _, single = fit("auto", 6, "single", precision="32-true" if PRECISION == "32-true" else PRECISION)
    trainer, zero = fit(NAME, 6, "zero")
    first, first_model = fit(NAME, 4, "first")
    first_weights = weights(first_model)
    first_val = first.validate(first_model, verbose=False)[0]["val_loss"]
    folder = first.checkpoint_callback.best_model_path
    client = ds._SafeLoading(None).load(ds._model_file(folder), map_location="cpu")
    resumed_trainer, resumed = fit(NAME, 6, "resumed", ckpt=folder)
    validated = resumed_trainer.validate(resumed, verbose=False)
    # a new Trainer evaluates a new model from the folder (ZeRO-3: weights put together from the partitions)
    fresh = pl.Trainer(strategy=NAME, accelerator=ACCELERATOR, devices=1, precision=PRECISION,
                       limit_val_batches=2, logger=False, enable_progress_bar=False, default_root_dir=os.path.join(ROOT, "fresh"))
    fresh_val = fresh.validate(Net(), ckpt_path=folder, verbose=False)[0]["val_loss"]
    converted = os.path.join(ROOT, "converted.ckpt")
    convert_zero_checkpoint_to_fp32_state_dict(folder, converted)
    loaded = Net.load_from_checkpoint(converted, map_location="cpu")
    torch.save({
        "single": weights(single), "zero": weights(zero), "resumed": weights(resumed),
        "engine": type(trainer.strategy.deepspeed_engine).__name__,
        "steps": [trainer.global_step, trainer.strategy.deepspeed_engine.global_steps],
        "lr": [g["lr"] for g in trainer.optimizers[0].param_groups],
        "files": sorted(os.listdir(os.path.join(folder, "checkpoint"))),
        "client": {"global_step": client["global_step"], "has_state_dict": "state_dict" in client,
                   "has_schedulers": "lr_schedulers" in client},
        "resumed_step": resumed_trainer.global_step,
        "val_loss": float(validated[0]["val_loss"]),
        "dtype": str(next(zero.parameters()).dtype),
        "first": first_weights, "first_val": float(first_val), "fresh_val": float(fresh_val),
        "converted": {k: v.float() for k, v in loaded.state_dict().items()}, "converted_step": torch.load(converted, weights_only=True)["global_step"],
        "manual_single": manual("auto"), "manual_zero": manual(NAME),
    }, os.path.join(ROOT, "out.pt"))
elif MODE == "two":
    trainer, model = fit(NAME, 4, "two", devices=2, batch_size=2)
    torch.save({"weights": weights(model), "partition": partition_sizes(trainer), "world": trainer.world_size,
                "step": trainer.global_step, "folder": trainer.checkpoint_callback.best_model_path},
               os.path.join(ROOT, f"out_{trainer.global_rank}.pt"))
elif MODE == "single4":
    _, model = fit("auto", 4, "single4", batch_size=4)
    torch.save({"weights": weights(model)}, os.path.join(ROOT, "out.pt"))
