"""Tuner.scale_batch_size / BatchSizeFinder: grow the batch size until a trial runs out of memory."""
import pytest
import torch
from torch.utils.data import DataLoader

from runtime.callbacks import BatchSizeFinder
from runtime.demos import BoringDataModule, BoringModel, RandomDataset
from runtime.tuner import Tuner
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer


class SizedModel(BoringModel):
    """Pretends to run out of memory above ``fits`` samples per batch (no GPU needed to test the search)."""

    def __init__(self, batch_size=2, fits=20, length=64):
        super().__init__()
        self.batch_size = batch_size
        self.fits = fits
        self.length = length
        self.tried = []

    def training_step(self, batch, batch_idx):
        if batch_idx == 0:
            self.tried.append(len(batch))
        if len(batch) > self.fits:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().training_step(batch, batch_idx)

    def train_dataloader(self):
        return DataLoader(RandomDataset(32, self.length), batch_size=self.batch_size)


def test_power_doubles_until_oom_then_keeps_the_last_fit(tmp_path):
    model = SizedModel(fits=20)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    size = Tuner(make_trainer(tmp_path)).scale_batch_size(model, mode="power", steps_per_trial=1)
    assert model.tried == [2, 4, 8, 16, 32]
    assert size == 16 == model.batch_size
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # weights put back


def test_binsearch_bisects_between_fit_and_failure(tmp_path):
    model = SizedModel(fits=20)
    assert Tuner(make_trainer(tmp_path)).scale_batch_size(model, mode="binsearch", steps_per_trial=1) == 20
    assert model.tried[:5] == [2, 4, 8, 16, 32] and model.tried[-1] in (20, 21)


def test_never_larger_than_the_dataset(tmp_path):
    model = SizedModel(fits=10_000, length=24)
    assert Tuner(make_trainer(tmp_path)).scale_batch_size(model, steps_per_trial=1) == 24


def test_callback_sets_size_before_fit_and_other_errors_propagate(tmp_path):
    model = SizedModel(fits=8)
    finder = BatchSizeFinder(steps_per_trial=1)
    make_trainer(tmp_path, max_steps=1, limit_val_batches=0, callbacks=[finder]).fit(model)
    assert finder.optimal_batch_size == 8 == model.batch_size and model.tried[-1] == 8  # the real fit used it

    class Broken(SizedModel):
        def training_step(self, batch, batch_idx):
            raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        Tuner(make_trainer(tmp_path)).scale_batch_size(Broken())


def test_missing_attribute_and_direct_loaders_are_refused(tmp_path):
    tuner = Tuner(make_trainer(tmp_path))
    with pytest.raises(MisconfigurationException, match="Field batch_size not found"):
        tuner.scale_batch_size(BoringModel())
    with pytest.raises(MisconfigurationException, match="dataloaders passed directly"):
        tuner.scale_batch_size(SizedModel(), train_dataloaders=DataLoader(RandomDataset(32, 4)))
    with pytest.raises(ValueError, match="mode"):
        BatchSizeFinder(mode="fastest")


def test_datamodule_attribute(tmp_path):
    class DM(BoringDataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = 2

        def train_dataloader(self):
            return DataLoader(self.random_train, batch_size=self.batch_size)

    dm = DM()
    assert Tuner(make_trainer(tmp_path)).scale_batch_size(BoringModel(), datamodule=dm, steps_per_trial=1) == 64
    assert dm.batch_size == 64


def test_tuners_skip_under_fast_dev_run(tmp_path):
    trainer = make_trainer(tmp_path, fast_dev_run=True)
    with pytest.warns(UserWarning, match="Skipping batch size scaler since `fast_dev_run` is enabled."):
        assert Tuner(trainer).scale_batch_size(SizedModel()) is None
    with pytest.warns(UserWarning, match="Skipping learning rate finder since `fast_dev_run` is enabled."):
        assert Tuner(trainer).lr_find(SizedModel()) is None
