"""LearningRateMonitor in real fits, read back from the CSVLogger's metrics.csv."""
import csv

import pytest
import torch

from runtime.callbacks import LearningRateMonitor
from runtime.demos.boring_classes import BoringModel
from runtime.loggers import CSVLogger
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class Model(BoringModel):
    def __init__(self, make_optim):
        super().__init__()
        self.make_optim = make_optim

    def train_dataloader(self):
        return random_loader(8, 2)  # 4 batches

    def configure_optimizers(self):
        return self.make_optim(self)


def run(tmp_path, make_optim, monitor, epochs=2, **kwargs):
    logger = CSVLogger(tmp_path, name="lr", version=0)
    trainer = make_trainer(tmp_path, logger=logger, max_epochs=epochs, callbacks=[monitor], log_every_n_steps=1,
                           limit_val_batches=0, **kwargs)
    trainer.fit(Model(make_optim))
    with open(tmp_path / "lr" / "version_0" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return trainer, rows


def column(rows, name):
    return [(int(r["step"]), float(r[name])) for r in rows if r.get(name) not in (None, "")]


def sgd_steplr(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


def test_epoch_scheduler_logged_once_per_epoch(tmp_path):
    monitor = LearningRateMonitor()
    _, rows = run(tmp_path, sgd_steplr, monitor)
    assert column(rows, "lr-SGD") == [(0, 0.1), (4, 0.05)]
    assert monitor.lrs == {"lr-SGD": [0.1, 0.05]}


def test_step_interval_logs_every_log_step_with_momentum_and_weight_decay(tmp_path):
    monitor = LearningRateMonitor(logging_interval="step", log_momentum=True, log_weight_decay=True)
    _, rows = run(tmp_path, sgd_steplr, monitor)
    lrs = column(rows, "lr-SGD")
    assert [s for s, _ in lrs] == list(range(8))
    assert [v for _, v in lrs] == [0.1] * 4 + [0.05] * 4
    assert {v for _, v in column(rows, "lr-SGD-momentum")} == {0.9}
    assert {v for _, v in column(rows, "lr-SGD-weight_decay")} == {0.01}


def test_step_scheduler_names_param_groups_and_betas(tmp_path):
    def make(model):
        opt = torch.optim.Adam([{"params": [model.layer.weight]}, {"params": [model.layer.bias], "lr": 0.5}],
                               lr=0.01, betas=(0.8, 0.99))
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    monitor = LearningRateMonitor(log_momentum=True)
    trainer, rows = run(tmp_path, make, monitor, epochs=1)
    assert column(rows, "lr-Adam/pg1") == [(0, 0.01), (1, 0.01), (2, 0.001), (3, 0.001)]
    assert column(rows, "lr-Adam/pg2")[-1][1] == pytest.approx(0.05)
    assert {v for _, v in column(rows, "lr-Adam/pg1-momentum")} == {0.8}
    assert "lr-Adam/pg2" in trainer.callback_metrics


def test_scheduler_name_and_optimizer_without_scheduler(tmp_path):
    def named(model):
        opt = torch.optim.SGD(model.parameters(), lr=0.2)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1), "name": "my_lr"}}

    _, rows = run(tmp_path / "a", named, LearningRateMonitor(), epochs=1)
    assert column(rows, "my_lr") == [(0, 0.2)]
    _, rows = run(tmp_path / "b", lambda m: torch.optim.SGD(m.parameters(), lr=0.3), LearningRateMonitor(), epochs=1)
    # an optimizer without a scheduler is logged at every logging point (as Lightning does)
    logged = column(rows, "lr-SGD")
    assert {s for s, _ in logged} == {0, 1, 2, 3} and {v for _, v in logged} == {0.3}


def test_no_logger_is_a_clear_error(tmp_path):
    trainer = make_trainer(tmp_path, callbacks=[LearningRateMonitor()], logger=False)
    with pytest.raises(MisconfigurationException, match="LearningRateMonitor.*no logger"):
        trainer.fit(Model(sgd_steplr))


def test_bad_interval():
    with pytest.raises(MisconfigurationException, match="logging_interval"):
        LearningRateMonitor(logging_interval="batch")
