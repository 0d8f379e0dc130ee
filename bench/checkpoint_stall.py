"""Training stall caused by checkpoint saves: synchronous vs AsyncCheckpointIO.

A ~100 MB model (an MLP with 25M float32 parameters) trains for STEPS steps on the CPU, saving a
checkpoint every N steps (ModelCheckpoint(every_n_train_steps=N, save_last=True)), with the default
atomic synchronous writer and with ``plugins=[AsyncCheckpointIO()]``; a run without saving is the
baseline. Runs alternate (none, sync, async, none, ...); the figure is the ratio of median step time
(wall time of the training loop / steps) to the no-save baseline.

    python bench/checkpoint_stall.py --rounds 3 --steps 60 --every 10
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(2)
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
