"""A training run for the exact-resume tests: shuffled data, dropout, random augmentation in
``__getitem__`` (torch, numpy and python RNGs), worker processes, a step-wise LR schedule.

Environment: OUT (where final weights go), ROOT (checkpoint folder), WORKERS, KILL_AT (a global step
at which the process SIGKILLs itself, before that step's checkpoint is written).
"""
import os
import random
import signal
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.environ["REPO"])
import runtime as pl  # noqa: E402
from runtime.callbacks import ModelCheckpoint  # noqa: E402


class Augmented(Dataset):
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(40, 8, generator=g)
        self.y = torch.randint(0, 3, (40,), generator=g)

    def __len__(self) -> int:
        return 40

    def __getitem__(self, i):
        jitter = torch.randn(8) * 0.1 + float(np.random.rand()) * 0.05 + random.random() * 0.05
        return self.x[i] + jitter, self.y[i]


class Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def train_dataloader(self):
        return DataLoader(Augmented(), batch_size=4, shuffle=True, num_workers=int(os.environ["WORKERS"]))


class KillAt(pl.Callback):
    """Dies like a preempted machine: after the step ran, before its checkpoint is written."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == int(os.environ.get("KILL_AT", "-1")):
            os.kill(os.getpid(), signal.SIGKILL)


class SignalAt(pl.Callback):
    """Sends this process a stop signal (SIGNAL, default SIGTERM) as a scheduler would."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == int(os.environ.get("SIGNAL_AT", "-1")):
            os.kill(os.getpid(), getattr(signal, os.environ.get("SIGNAL", "SIGTERM")))


def main() -> None:
    pl.seed_everything(123)
    root = os.environ["ROOT"]
    preempt = "SIGNAL_AT" in os.environ or os.environ.get("MODE") == "preempt"
    callbacks = [KillAt(), SignalAt()]
    if not preempt:  # preemption tests rely on the hpc checkpoint alone
        if os.environ.get("SAVE_AT") == "epoch_end":
            callbacks.append(ModelCheckpoint(dirpath=root, every_n_epochs=1, save_last=True, save_top_k=0))
        else:
            callbacks.append(ModelCheckpoint(dirpath=root, every_n_train_steps=1, save_last=True, save_top_k=0))
    trainer = pl.Trainer(max_epochs=3, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=not preempt, callbacks=callbacks, default_root_dir=root)
    last = os.path.join(root, "last.ckpt")
    trainer.fit(Model(), ckpt_path=last if os.path.exists(last) else None)
    torch.save(trainer.lightning_module.state_dict(), os.environ["OUT"])


if __name__ == "__main__":
    main()
