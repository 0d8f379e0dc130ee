"""A small FSDP training run used by the multi-process tests. Picked by environment variables: MODE
(fsdp | single), ROOT, OUT (this rank's full final weights and shard sizes), RESUME (a checkpoint to
resume from), EMPTY_INIT (build the model on the meta device with Trainer.init_module), STATE_DICT_TYPE
(full | sharded), DEVICES and ACCELERATOR (default 2 and cpu), RECOMPUTE (activation checkpointing of every nn.Linear), FAIL_STEP (rank 1 raises there), HIDDEN
(the hidden width, default 16)."""
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.environ["REPO"])
import runtime as pl  # noqa: E402
from runtime.callbacks import ModelCheckpoint, OnExceptionCheckpoint  # noqa: E402
from runtime.strategies import FSDPStrategy  # noqa: E402


LINEAR_CALLS = [0]  # forward calls of every nn.Linear (activation checkpointing runs them again in backward)


def count_linear_calls() -> None:
    """Only in the script's own processes: importing this file (as a test does) changes nothing."""
    forward = nn.Linear.forward

    def counted(self, x):
        LINEAR_CALLS[0] += 1
        return forward(self, x)

    nn.Linear.forward = counted


class Net(pl.LightningModule):
    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        self.save_hyperparameters()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, 3))
        self.scale = nn.Parameter(torch.ones(3))  # held by the root unit, not by a Linear's

    def reset_parameters(self) -> None:  # what init_module(empty_init=True) calls for `scale`
        nn.init.ones_(self.scale)

    def forward(self, x):
        return self.net(x) * self.scale

    def training_step(self, batch, batch_idx):
        if self.global_rank == 1 and self.global_step == int(os.environ.get("FAIL_STEP", "-1")):
            raise RuntimeError(f"planted failure on rank 1 at step {self.global_step}")
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("loss", loss, sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y), sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.05)


def data() -> TensorDataset:
    g = torch.Generator().manual_seed(1)
    return TensorDataset(torch.randn(48, 6, generator=g), torch.randint(0, 3, (48,), generator=g))


def full_state(module: torch.nn.Module) -> dict:
    from torch.distributed.tensor import DTensor

    return {k: (v.full_tensor() if isinstance(v, DTensor) else v).detach().clone() for k, v in module.state_dict().items()}


def main() -> None:
    count_linear_calls()
    mode = os.environ.get("MODE", "fsdp")
    world = int(os.environ.get("DEVICES", "2")) if mode == "fsdp" else 1
    accelerator = os.environ.get("ACCELERATOR", "cpu")
    root = os.environ["ROOT"]
    options = dict(auto_wrap_policy={nn.Linear}, state_dict_type=os.environ.get("STATE_DICT_TYPE", "full"))
    if os.environ.get("RECOMPUTE"):
        options["activation_checkpointing_policy"] = {nn.Linear}
    strategy = FSDPStrategy(**options) if mode == "fsdp" else "auto"
    trainer = pl.Trainer(
        accelerator=accelerator, devices=world, strategy=strategy, max_epochs=2, default_root_dir=root,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, accumulate_grad_batches=2,
        gradient_clip_val=0.5, callbacks=[ModelCheckpoint(dirpath=os.path.join(root, "ckpt"), save_top_k=-1, save_last=True),
                   OnExceptionCheckpoint(os.path.join(root, "on_exception"))],
    )
    with trainer.init_module(empty_init=bool(os.environ.get("EMPTY_INIT"))):
        model = Net(hidden=int(os.environ.get("HIDDEN", "16")))
    if os.environ.get("EMPTY_INIT"):
        model.extra = nn.Module()  # made outside init_module: real values that materialising must keep
        model.extra.register_buffer("marker", torch.full((2,), 7.0))
    loader = DataLoader(data(), batch_size=8 // world)
    trainer.fit(model, loader, DataLoader(data(), batch_size=8 // world), ckpt_path=os.environ.get("RESUME"))
    calls = LINEAR_CALLS[0]
    validated = trainer.validate(model, DataLoader(data(), batch_size=8 // world), verbose=False)  # same processes
    # a new Trainer runs the model an earlier one sharded (same processes, same shards)
    again = pl.Trainer(accelerator=accelerator, devices=world, strategy=FSDPStrategy(**options) if mode == "fsdp" else "auto",
                       logger=False, enable_progress_bar=False, enable_model_summary=False)
    validated_again = again.validate(model, DataLoader(data(), batch_size=8 // world), verbose=False)
    shards = {k: (v.to_local() if hasattr(v, "to_local") else v).numel() for k, v in model.named_parameters()}
    out = os.environ["OUT"].replace("RANK", str(trainer.global_rank))
    torch.save({"state": full_state(model), "shards": shards, "global_step": trainer.global_step,
                "val_loss": trainer.callback_metrics["val_loss"].item(), "validated": validated,
                "validated_again": validated_again, "linear_calls_in_fit": calls, "sharded": type(trainer.model).__name__}, out)


if __name__ == "__main__":
    main()
