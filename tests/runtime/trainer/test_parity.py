"""A runtime fit produces exactly (torch.equal) the weights of the equivalent hand-written loop."""
import copy

import pytest
import torch
from torch import nn

import runtime as pl

from tests.runtime.helpers import make_trainer, xy_loader


class MLP(pl.LightningModule):
    def __init__(self, lr=0.05, momentum=0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 2))
        self.lr, self.momentum = lr, momentum

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=self.momentum)


def hand_loop(model, loader, epochs, accumulate=1):
    opt = torch.optim.SGD(model.parameters(), lr=model.lr, momentum=model.momentum)
    n = len(loader)
    for _ in range(epochs):
        for i, (x, y) in enumerate(loader):
            if i % accumulate == 0:
                opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            (loss / accumulate).backward()
            if (i + 1) % accumulate == 0 or i + 1 == n:
                opt.step()
    return model


def _pair(seed=0, **kwargs):
    pl.seed_everything(seed)
    model = MLP(**kwargs)
    return model, copy.deepcopy(model)


def _assert_same(a, b):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), f"{name} differs by {(p - q).abs().max().item()}"


@pytest.mark.parametrize("epochs", [1, 3])
def test_fit_equals_hand_written_loop(tmp_path, epochs):
    model, reference = _pair()
    loader = xy_loader(n=40, batch_size=8)
    make_trainer(tmp_path, max_epochs=epochs, limit_val_batches=0).fit(model, loader)
    hand_loop(reference, loader, epochs)
    _assert_same(model, reference)
    assert not torch.equal(model.net[0].weight, MLP().net[0].weight)


def test_fit_equals_hand_written_loop_with_momentum(tmp_path):
    model, reference = _pair(momentum=0.9)
    loader = xy_loader(n=32, batch_size=8)
    make_trainer(tmp_path, max_epochs=2, limit_val_batches=0).fit(model, loader)
    hand_loop(reference, loader, 2)
    _assert_same(model, reference)


@pytest.mark.parametrize("n", [32, 40])  # 4 and 5 batches: the second ends with a half window
def test_accumulation_equals_hand_written_loop(tmp_path, n):
    model, reference = _pair(seed=1)
    loader = xy_loader(n=n, batch_size=8, seed=1)
    make_trainer(tmp_path, max_epochs=2, limit_val_batches=0, accumulate_grad_batches=2).fit(model, loader)
    hand_loop(reference, loader, 2, accumulate=2)
    _assert_same(model, reference)


def test_parity_with_defaults_on(tmp_path):
    """Logger, checkpointing, progress bar and summary on: the weights are still the hand loop's."""
    model, reference = _pair(seed=2)
    loader = xy_loader(n=24, batch_size=8, seed=2)
    trainer = pl.Trainer(default_root_dir=str(tmp_path), max_epochs=2, enable_progress_bar=True)
    trainer.fit(model, loader)
    hand_loop(reference, loader, 2)
    _assert_same(model, reference)


def test_validation_does_not_change_training(tmp_path):
    """Validation (and the sanity check) between epochs leaves the training trajectory untouched."""
    model, reference = _pair(seed=3)
    loader = xy_loader(n=24, batch_size=8, seed=3)

    class WithVal(MLP):
        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", nn.functional.mse_loss(self(x), y))

    with_val = WithVal()
    with_val.load_state_dict(model.state_dict())
    make_trainer(tmp_path, max_epochs=2).fit(with_val, loader, xy_loader(n=16, batch_size=8, seed=9))
    hand_loop(reference, loader, 2)
    _assert_same(with_val, reference)


def test_seed_everything_makes_runs_repeatable(tmp_path):
    def run():
        pl.seed_everything(123)
        model = MLP()
        loader = torch.utils.data.DataLoader(xy_loader(n=32).dataset, batch_size=8, shuffle=True)
        make_trainer(tmp_path, max_epochs=2, limit_val_batches=0).fit(model, loader)
        return model

    _assert_same(run(), run())


def test_seed_everything_returns_the_seed_and_seeds_torch():
    import os
    import random

    import numpy as np

    assert pl.seed_everything(7) == 7
    a = (torch.rand(3), random.random(), np.random.rand())
    assert pl.seed_everything(7) == 7
    b = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]
    assert os.environ.get("PL_GLOBAL_SEED") == "7"
