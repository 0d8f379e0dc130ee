"""BasePredictionWriter in real predict runs: per batch, per epoch, both, several dataloaders."""
import pytest
import torch

from runtime.callbacks import BasePredictionWriter
from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class Writer(BasePredictionWriter):
    def __init__(self, interval):
        super().__init__(interval)
        self.batches, self.epochs = [], []

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx):
        self.batches.append((dataloader_idx, batch_idx, batch_indices, tuple(prediction.shape)))

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices):
        self.epochs.append((predictions, batch_indices))


def test_batch_interval(tmp_path):
    writer = Writer("batch")
    out = make_trainer(tmp_path, callbacks=[writer]).predict(BoringModel(), random_loader(6, 2), return_predictions=False)
    assert out is None
    assert writer.batches == [(0, 0, [0, 1], (2, 2)), (0, 1, [2, 3], (2, 2)), (0, 2, [4, 5], (2, 2))]
    assert writer.epochs == []


def test_epoch_interval_without_returned_predictions(tmp_path):
    writer = Writer("epoch")
    model = BoringModel()
    loader = random_loader(5, 2)
    make_trainer(tmp_path, callbacks=[writer]).predict(model, loader, return_predictions=False)
    assert writer.batches == []
    (predictions, indices), = writer.epochs
    assert len(predictions) == 3 and indices == [[[0, 1], [2, 3], [4]]]
    with torch.no_grad():
        torch.testing.assert_close(torch.cat(predictions), model(loader.dataset.data))


def test_both_intervals_and_two_dataloaders(tmp_path):
    writer = Writer("batch_and_epoch")
    make_trainer(tmp_path, callbacks=[writer]).predict(BoringModel(), [random_loader(4, 2), random_loader(2, 2)])
    assert [(d, b) for d, b, _, _ in writer.batches] == [(0, 0), (0, 1), (1, 0)]
    (predictions, indices), = writer.epochs
    assert [len(p) for p in predictions] == [2, 1] and indices == [[[0, 1], [2, 3]], [[0, 1]]]


def test_shuffled_loader_has_no_indices(tmp_path):
    writer = Writer("batch")
    make_trainer(tmp_path, callbacks=[writer]).predict(BoringModel(), random_loader(4, 2, shuffle=True))
    assert [i for _, _, i, _ in writer.batches] == [None, None]


def test_unimplemented_writer_and_bad_interval(tmp_path):
    with pytest.raises(NotImplementedError, match="write_on_batch_end"):
        make_trainer(tmp_path, callbacks=[BasePredictionWriter()]).predict(BoringModel(), random_loader(2, 2))
    with pytest.raises(MisconfigurationException, match="write_interval"):
        BasePredictionWriter("step")


@pytest.mark.parametrize("interval, expected", [("batch", [[]]), ("epoch", [[[0, 1], [2, 3]]])])
def test_predict_loop_epoch_batch_indices(tmp_path, interval, expected):
    seen = []

    class Model(BoringModel):
        def on_predict_epoch_end(self):
            seen.append(self.trainer.predict_loop.epoch_batch_indices)

    trainer = make_trainer(tmp_path, callbacks=[Writer(interval)])
    trainer.predict(Model(), random_loader(4, 2), return_predictions=False)
    assert seen == [expected]
    assert trainer.predict_loop.epoch_batch_indices == []  # kept for the run only
