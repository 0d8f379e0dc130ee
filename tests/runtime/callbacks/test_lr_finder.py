"""The learning-rate finder: Tuner(trainer).lr_find and the LearningRateFinder callback, on real fits."""
import pytest
import torch

from runtime.callbacks import LearningRateFinder
from runtime.demos.boring_classes import BoringModel
from runtime.tuner import Tuner
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class LRModel(BoringModel):
    def __init__(self, lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.lr = lr

    def train_dataloader(self):
        return random_loader(32, 4)  # 8 batches: the search runs several epochs

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1)]


def test_lr_find_records_a_rising_lr_restores_weights_and_sets_lr(tmp_path):
    model = LRModel()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = make_trainer(tmp_path, max_epochs=3)
    rng = torch.get_rng_state()
    result = Tuner(trainer).lr_find(model, min_lr=1e-4, max_lr=1.0, num_training=30, early_stop_threshold=None)
    lrs, losses = result.results["lr"], result.results["loss"]
    assert len(lrs) == len(losses) == 30
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(lrs, lrs[1:]))
    suggestion = result.suggestion()
    assert 1e-4 < suggestion < 1.0 and model.lr == suggestion and model.hparams.lr == suggestion
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert torch.equal(torch.get_rng_state(), rng)
    # the user's trainer is untouched and still trains the model
    trainer.fit(model)
    assert trainer.global_step == 24 and model.trainer is trainer


def test_linear_mode_with_dataloader_and_divergence_stop(tmp_path):
    class Exploding(LRModel):
        def training_step(self, batch, batch_idx):
            lr = self.trainer.optimizers[0].param_groups[0]["lr"]
            return {"loss": super().training_step(batch, batch_idx)["loss"] * 0 + lr * 100 + 1}

    trainer = make_trainer(tmp_path)
    result = Tuner(trainer).lr_find(Exploding(), train_dataloaders=random_loader(16, 4), mode="linear",
                                    min_lr=0.01, max_lr=1.0, num_training=50, update_attr=False)
    lrs = result.results["lr"]
    assert lrs[1] - lrs[0] == pytest.approx(lrs[2] - lrs[1])  # linear
    assert 2 < len(lrs) < 50  # the loss grew past 4x its best: stopped early


def test_missing_lr_attribute_fails_before_training(tmp_path):
    trainer = make_trainer(tmp_path)
    with pytest.raises(AttributeError, match="attr_name"):
        Tuner(trainer).lr_find(BoringModel(), num_training=5)
    with pytest.raises(AttributeError, match="my_lr"):
        Tuner(trainer).lr_find(LRModel(), attr_name="my_lr", num_training=5)
    with pytest.raises(MisconfigurationException, match="mode"):
        Tuner(trainer).lr_find(LRModel(), mode="exp")


def test_learning_rate_finder_callback_applies_the_suggestion(tmp_path):
    finder = LearningRateFinder(min_lr=1e-3, max_lr=1.0, num_training_steps=20)
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[finder], limit_val_batches=0)
    model = LRModel()
    trainer.fit(model)
    suggestion = finder.optimal_lr.suggestion()
    assert suggestion is not None and model.lr == suggestion
    # StepLR(gamma=0.1) stepped once at the end of the epoch, from the suggested lr
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(suggestion * 0.1)
    assert trainer.global_step == 8 and model.trainer is trainer
