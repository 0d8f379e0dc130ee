"""Training stall caused by checkpoint saves: synchronous vs AsyncCheckpointIO.

A ~100 MB model (an MLP with 25M float32 parameters) trains for STEPS steps on the CPU, saving a
checkpoint every N steps (ModelCheckpoint(every_n_train_steps=N, save_last=True)), with the default
atomic synchronous writer and with ``plugins=[AsyncCheckpointIO()]``; a run without saving is the
baseline. Runs alternate (none, sync, async, none, ...); the figure is the ratio of median step time
(wall time of the training loop / steps) to the no-save baseline.

    python bench/checkpoint_stall.py --rounds 3 --steps 60 --every 10

``--load`` measures instead what verifying every entry's CRC-32 adds to loading that checkpoint:
``torch.load`` alone against ``load_checkpoint_file`` (the CRC pass, then ``torch.load``), alternated,
file in the page cache (as right after a save, or on the second load of a run).

    python bench/checkpoint_stall.py --load --rounds 7
"""

import argparse
import statistics
import tempfile
import time

import os
import sys

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
import runtime as pl  # noqa: E402
from runtime.callbacks import ModelCheckpoint  # noqa: E402
from runtime.plugins import AsyncCheckpointIO  # noqa: E402

WIDTH = 2500  # 4 layers of 2500x2500 ≈ 25M parameters ≈ 100 MB


class Big(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(*(nn.Linear(WIDTH, WIDTH) for _ in range(4)))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        return self.net(x).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-4)


class Clock(pl.Callback):
    def on_train_start(self, trainer, pl_module):
        self.t0 = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        self.elapsed = time.perf_counter() - self.t0


def run(mode: str, steps: int, every: int) -> float:
    torch.manual_seed(0)
    clock = Clock()
    callbacks = [clock]
    plugins = []
    if mode != "none":
        callbacks.append(
            ModelCheckpoint(
                dirpath=tempfile.mkdtemp(), every_n_train_steps=every, save_last=True, save_top_k=0
            )
        )
    if mode == "async":
        plugins.append(AsyncCheckpointIO())
    data = DataLoader(TensorDataset(torch.randn(steps * 8, WIDTH)), batch_size=8)
    trainer = pl.Trainer(
        max_steps=steps,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=mode != "none",
        callbacks=callbacks,
        plugins=plugins,
    )
    trainer.fit(Big(), data)
    # async: the loop time excludes waiting for the last write, which happens at teardown
    return clock.elapsed / steps


def load_cost(rounds: int) -> None:
    from runtime.checkpoint.io import damaged_entries, load_checkpoint_file

    path = os.path.join(tempfile.mkdtemp(), "big.ckpt")
    model = Big()
    torch.save({"state_dict": model.state_dict(), "optimizer_states": [{"state": {}, "param_groups": []}]}, path)
    size = os.path.getsize(path)
    times: dict[str, list[float]] = {"torch.load": [], "crc pass": [], "load_checkpoint_file": []}
    steps = {
        "torch.load": lambda: torch.load(path, weights_only=True),
        "crc pass": lambda: damaged_entries(path),
        "load_checkpoint_file": lambda: load_checkpoint_file(path),
    }
    for fn in steps.values():  # warm the page cache
        fn()
    for _ in range(rounds):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["torch.load"])
    print(f"{size / 2**20:.0f} MiB checkpoint, {rounds} alternated rounds, median:")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:>22}: {med * 1e3:8.1f} ms  ({size / 2**30 / med:.2f} GiB/s)  ratio to torch.load {med / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--load", action="store_true", help="measure the CRC-32 check on load instead")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.load:
        load_cost(args.rounds)
        return
    times: dict[str, list[float]] = {"none": [], "sync": [], "async": []}
    for r in range(args.rounds):
        for mode in times:
            times[mode].append(run(mode, args.steps, args.every))
            print(f"round {r + 1} {mode:>5}: {times[mode][-1] * 1e3:8.2f} ms/step", flush=True)
    base = statistics.median(times["none"])
    print(
        f"\n~100 MB model, save every {args.every} steps, {args.steps} steps, {args.rounds} alternated rounds"
    )
    for mode, values in times.items():
        med = statistics.median(values)
        print(f"{mode:>5}: median {med * 1e3:8.2f} ms/step  ratio to no-save {med / base:.3f}")


if __name__ == "__main__":
    main()
