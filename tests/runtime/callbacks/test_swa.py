"""StochasticWeightAveraging in real fits: the final weights are the average, SWALR drives the lr, BN is recomputed."""
import pytest
import torch
from torch import nn
from torch.optim.swa_utils import SWALR

from runtime.callbacks import Callback, StochasticWeightAveraging
from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class Model(BoringModel):
    def train_dataloader(self):
        return random_loader(8, 2)


class Snapshots(Callback):
    def __init__(self):
        self.weights, self.lrs = {}, {}

    def on_train_epoch_start(self, trainer, pl_module):
        self.weights[trainer.current_epoch] = [p.detach().clone() for p in pl_module.parameters()]

    def on_train_epoch_end(self, trainer, pl_module):
        self.lrs[trainer.current_epoch] = trainer.optimizers[0].param_groups[0]["lr"]


def test_final_weights_are_the_average_of_the_swa_epochs(tmp_path):
    swa = StochasticWeightAveraging(swa_lrs=0.05, swa_epoch_start=2, annealing_epochs=1)
    snaps = Snapshots()
    trainer = make_trainer(tmp_path, max_epochs=4, callbacks=[swa, snaps], limit_val_batches=0)
    model = Model()
    trainer.fit(model)
    # averaged: the weights at the start of epochs 1, 2, 3 (swa_epoch_start=2 is 1-based)
    expected = [torch.stack(ws).mean(0) for ws in zip(*(snaps.weights[e] for e in (1, 2, 3)))]
    for p, e in zip(model.parameters(), expected):
        torch.testing.assert_close(p.detach(), e)
    assert swa.n_averaged.item() == 3
    assert isinstance(trainer.lr_scheduler_configs[0].scheduler, SWALR)  # replaced the StepLR
    assert snaps.lrs[0] == pytest.approx(0.01)  # StepLR(gamma=0.1) stepped at the end of epoch 0
    assert snaps.lrs[3] == pytest.approx(0.05)  # annealed to swa_lrs
    state = swa.state_dict()
    assert state["n_averaged"] == 3 and state["latest_update_epoch"] == 3 and state["scheduler_state"] is not None


def test_batch_norm_statistics_are_recomputed_for_the_average(tmp_path):
    class BNModel(Model):
        def __init__(self):
            super().__init__()
            self.layer = nn.Sequential(nn.Linear(32, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))

    swa = StochasticWeightAveraging(swa_lrs=0.01, swa_epoch_start=0.5)
    trainer = make_trainer(tmp_path, max_epochs=2, callbacks=[swa], limit_val_batches=0)
    model = BNModel()
    loader = random_loader(8, 2)
    trainer.fit(model, train_dataloaders=loader)
    bn = model.layer[1]
    with torch.no_grad():
        hidden = model.layer[0](torch.cat(list(loader)))
    # a cumulative average over the pass: the batch means averaged; the variance is per batch (unbiased)
    torch.testing.assert_close(bn.running_mean, hidden.mean(0), atol=1e-5, rtol=1e-4)
    assert bn.momentum == 0.1  # restored after the pass


def test_fractional_start_and_validation(tmp_path):
    swa = StochasticWeightAveraging(swa_lrs=[0.01], swa_epoch_start=0.5)
    trainer = make_trainer(tmp_path, max_epochs=4, callbacks=[swa], limit_val_batches=0)
    trainer.fit(Model())
    assert swa.swa_start == 1 and swa.n_averaged.item() == 3
    with pytest.raises(MisconfigurationException, match="swa_epoch_start"):
        StochasticWeightAveraging(swa_lrs=0.1, swa_epoch_start=0)
    with pytest.raises(MisconfigurationException, match="swa_lrs"):
        StochasticWeightAveraging(swa_lrs=-1.0)
    with pytest.raises(MisconfigurationException, match="annealing_strategy"):
        StochasticWeightAveraging(swa_lrs=0.1, annealing_strategy="exp")
