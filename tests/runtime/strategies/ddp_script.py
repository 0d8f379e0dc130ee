"""A small DDP training run used by the multi-process tests. Behaviour is picked by environment
variables: MODE (ddp | torchrun | single), OUT (where to save this rank's final weights), ROOT,
DEVICES, NUM_NODES, ACCUMULATE, FAIL_RANK / FAIL_STEP (raise there), FAIL_ONCE (only in the first
torchrun attempt), GLOBAL_BATCH (summed over processes), MANUAL (manual optimization, two optimizers), SIGNAL_RANK /
SIGNAL_STEP (that rank sends itself SIGTERM there, in a run that did not resume), MAX_TIME (Trainer(max_time=...)) with
CLOCK_JUMP_RANK / CLOCK_JUMP_STEP (from that step on, that rank's clock reads a day later)."""
import os
import signal
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.environ["REPO"])
import runtime as pl  # noqa: E402
from runtime.callbacks import ModelCheckpoint, OnExceptionCheckpoint  # noqa: E402


_monotonic = time.monotonic


class Net(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
        self.automatic_optimization = not os.environ.get("MANUAL")

    def training_step(self, batch, batch_idx):
        fail_step = int(os.environ.get("FAIL_STEP", "-1"))
        first_try = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0" or not os.environ.get("FAIL_ONCE")
        if self.global_step == fail_step and self.global_rank == int(os.environ.get("FAIL_RANK", "1")) and first_try:
            raise RuntimeError(f"planted failure on rank {self.global_rank} at step {fail_step}")
        if self.global_step == int(os.environ.get("CLOCK_JUMP_STEP", "-1")) and \
                self.global_rank == int(os.environ.get("CLOCK_JUMP_RANK", "1")) and time.monotonic is _monotonic:
            time.monotonic = lambda: _monotonic() + 86_400.0  # this rank's max_time has run out; the others' has not
        signal_step = int(os.environ.get("SIGNAL_STEP", "-1"))
        if signal_step >= 0 or os.environ.get("MAX_TIME"):
            time.sleep(0.2)  # steps of a real size: ranks exchange signals about every 0.5 s of steps
        if self.global_step == signal_step and self.global_rank == int(os.environ.get("SIGNAL_RANK", "1")) \
                and self.trainer.ckpt_path is None:  # a scheduler's SIGTERM reaches this rank first
            os.kill(os.getpid(), signal.SIGTERM)
        x, y = batch
        if not self.automatic_optimization:  # two optimizers, two backward passes per step, as a GAN does
            first, second = self.optimizers()
            first.zero_grad()
            self.manual_backward(F.cross_entropy(self.net(x), y))
            first.step()
            loss = F.cross_entropy(self.net(x), y)
            second.zero_grad()
            self.manual_backward(loss)
            second.step()
            self.log("loss", loss, sync_dist=True)
            return None
        loss = F.cross_entropy(self.net(x), y)
        self.log("loss", loss, sync_dist=True)
        self.log("rank_value", float(self.global_rank), sync_dist=True, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self.net(x), y), sync_dist=True)

    def configure_optimizers(self):
        if not self.automatic_optimization:
            return torch.optim.SGD(self.net[0].parameters(), lr=0.2), torch.optim.SGD(self.net[2].parameters(), lr=0.1)
        return torch.optim.SGD(self.parameters(), lr=0.2)


class Collectives(pl.Callback):
    """Checks the strategy's collectives from inside a real run."""

    def on_train_start(self, trainer, pl_module):
        s = trainer.strategy
        if s.world_size == 1:
            return
        gathered = s.all_gather(torch.tensor([float(s.global_rank)]))
        assert gathered.flatten().tolist() == [float(r) for r in range(s.world_size)], gathered
        assert s.broadcast({"from": s.global_rank})["from"] == 0
        assert s.reduce(torch.tensor(float(s.global_rank + 1)), "sum").item() == sum(range(1, s.world_size + 1))
        gathered = pl_module.all_gather(torch.tensor(float(s.global_rank)))
        assert gathered.shape == (s.world_size,)
        s.barrier()


def data(global_batch: int) -> TensorDataset:
    g = torch.Generator().manual_seed(1)
    n = global_batch * 6
    return TensorDataset(torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g))


def main() -> None:
    mode = os.environ.get("MODE", "ddp")
    devices = int(os.environ.get("DEVICES", "2"))
    nodes = int(os.environ.get("NUM_NODES", "1"))
    world = devices * nodes if mode != "single" else 1
    global_batch = int(os.environ.get("GLOBAL_BATCH", "8"))
    batch = global_batch // world  # the same global batch whatever the number of processes
    loader = DataLoader(data(global_batch), batch_size=batch)
    root = os.environ["ROOT"]
    kwargs = dict(strategy="ddp", devices=devices, num_nodes=nodes) if mode != "single" else dict(devices=1)
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=2, default_root_dir=root, enable_progress_bar=False, enable_model_summary=False,
        accumulate_grad_batches=int(os.environ.get("ACCUMULATE", "1")), num_sanity_val_steps=0,
        max_time=os.environ.get("MAX_TIME"),
        callbacks=[Collectives(), ModelCheckpoint(dirpath=os.path.join(root, "ckpt"), save_last=True, every_n_train_steps=1),
                   OnExceptionCheckpoint(os.path.join(root, "on_exception"))],
        **kwargs,
    )
    trainer.fit(Net(), loader, DataLoader(data(global_batch), batch_size=batch))
    metrics = {k: v.item() for k, v in trainer.callback_metrics.items()}
    # a second call in the same processes (the other ranks are running already: nothing is launched again)
    validated = trainer.validate(dataloaders=DataLoader(data(global_batch), batch_size=batch), verbose=False)
    out = os.environ["OUT"].replace("RANK", str(trainer.global_rank))
    torch.save({"state": trainer.lightning_module.state_dict(), "metrics": metrics, "validated": validated,
                "global_step": trainer.global_step, "world": trainer.world_size}, out)


if __name__ == "__main__":
    main()
