"""CUDA checks for the runtime's hot path (needs a GPU; run through bench/gpu_check.sh).

1. Host-device synchronisations per training step in steady state, counted with
   ``torch.cuda.set_sync_debug_mode("warn")`` over steps 50..250 of a fit (logger and bar off,
   ``self.log`` every step), and the same for a Trainer with its defaults.
2. Step time of a wide MLP in bf16-mixed against a hand-written autocast loop on the same data,
   runs alternated, medians; target ratio <= 1.05.

Prints a small table; exits non-zero when no GPU is present.
"""

import argparse
import statistics
import tempfile
import time
import warnings

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl

WIDTH, DEPTH, BATCH = 4096, 4, 256


def make_net() -> torch.nn.Module:
    layers = []
    for _ in range(DEPTH):
        layers += [torch.nn.Linear(WIDTH, WIDTH), torch.nn.GELU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(WIDTH, 10))


def make_data(steps: int) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(steps * BATCH, WIDTH, generator=g)
    y = torch.randint(0, 10, (steps * BATCH,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=BATCH, pin_memory=True)


class Wide(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = make_net()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class SyncCounter(pl.Callback):
    """Turns sync warnings on between two steps and counts them."""

    def __init__(self, start: int, stop: int) -> None:
        self.start, self.stop, self.count, self.steps = start, stop, 0, 0
        self._catch = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == self.start:
            torch.cuda.synchronize()
            self._catch = warnings.catch_warnings(record=True)
            self._records = self._catch.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self._catch is not None and self.start <= batch_idx:
            self.steps += 1
        if batch_idx == self.stop - 1 and self._catch is not None:
            torch.cuda.set_sync_debug_mode(0)
            self.count = sum("synchroniz" in str(w.message) for w in self._records)
            self._catch.__exit__(None, None, None)
            self._catch = None


def count_syncs(defaults: bool) -> float:
    steps = 260
    counter = SyncCounter(50, 250)
    kwargs = (
        {}
        if defaults
        else dict(
            logger=False, enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False
        )
    )
    trainer = pl.Trainer(
        accelerator="cuda",
        devices=1,
        precision="bf16-mixed",
        max_steps=steps,
        callbacks=[counter],
        num_sanity_val_steps=0,
        default_root_dir=tempfile.mkdtemp(),
        **kwargs,
    )
    trainer.fit(Wide(), make_data(steps))
    return counter.count / max(counter.steps, 1)


def time_runtime(loader: DataLoader, steps: int) -> float:
    stamps = {}

    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 20:
                torch.cuda.synchronize()
                stamps["t0"] = time.perf_counter()

        def on_train_end(self, trainer, pl_module):
            torch.cuda.synchronize()
            stamps["t1"] = time.perf_counter()

    torch.manual_seed(0)
    trainer = pl.Trainer(
        accelerator="cuda",
        devices=1,
        precision="bf16-mixed",
        max_steps=steps,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[Clock()],
    )
    trainer.fit(Wide(), loader)
    return (stamps["t1"] - stamps["t0"]) / (steps - 20)


def time_hand(loader: DataLoader, steps: int) -> float:
    torch.manual_seed(0)
    net = make_net().cuda()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    t0 = None
    for i, (x, y) in enumerate(loader):
        if i == steps:
            break
        if i == 20:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / (steps - 20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 1
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    print(f"syncs per step, steady state (logger/bar/ckpt off): {count_syncs(False):.3f}  target 0")
    print(f"syncs per step, steady state (Trainer defaults):     {count_syncs(True):.3f}")
    loader = make_data(args.steps)
    hand, rt = [], []
    for _ in range(args.rounds):
        hand.append(time_hand(loader, args.steps))
        rt.append(time_runtime(loader, args.steps))
    h, r = statistics.median(hand), statistics.median(rt)
    print(
        f"wide MLP {DEPTH}x{WIDTH}, batch {BATCH}, bf16-mixed, {args.rounds} alternated rounds x {args.steps} steps"
    )
    print(
        f"hand-written: {h * 1e3:.3f} ms/step   runtime: {r * 1e3:.3f} ms/step   ratio {r / h:.3f}  target <= 1.05"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
