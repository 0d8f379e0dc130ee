"""Where data comes from: dataloaders passed to fit/validate/test/predict, a datamodule, or the module's
*_dataloader hooks; what validate/test/predict return; the datamodule's own hooks."""
import pytest
import torch
from torch.utils.data import DataLoader

import runtime as pl
from runtime.demos.boring_classes import BoringDataModule, BoringModel, RandomDataset
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import bare_module_class, make_trainer, random_loader


class Counting(BoringModel):
    def __init__(self):
        super().__init__()
        self.counts = {"train": 0, "val": 0, "test": 0, "predict": 0}
        self.hook_calls = []

    def training_step(self, batch, batch_idx):
        self.counts["train"] += 1
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch, batch_idx):
        self.counts["val"] += 1
        self.log("val_metric", self.step(batch))

    def test_step(self, batch, batch_idx):
        self.counts["test"] += 1
        self.log("test_metric", self.step(batch))

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        self.counts["predict"] += 1
        return self(batch)

    def train_dataloader(self):
        self.hook_calls.append("train")
        return random_loader(length=6, batch_size=2)

    def val_dataloader(self):
        self.hook_calls.append("val")
        return random_loader(length=4, batch_size=2)

    def test_dataloader(self):
        self.hook_calls.append("test")
        return random_loader(length=10, batch_size=2)

    def predict_dataloader(self):
        self.hook_calls.append("predict")
        return random_loader(length=14, batch_size=2)


def test_fit_with_module_dataloader_hooks(tmp_path):
    model = Counting()
    trainer = make_trainer(tmp_path, num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.counts["train"] == 3 and model.counts["val"] == 2
    assert sorted(model.hook_calls) == ["train", "val"]


def test_fit_with_dataloaders_passed_in(tmp_path):
    model = Counting()
    trainer = make_trainer(tmp_path, num_sanity_val_steps=0)
    trainer.fit(model, train_dataloaders=random_loader(length=10), val_dataloaders=random_loader(length=2))
    assert model.counts["train"] == 5 and model.counts["val"] == 1
    assert model.hook_calls == []  # the passed loaders win over the hooks
    # positional too
    model = Counting()
    make_trainer(tmp_path, num_sanity_val_steps=0).fit(model, random_loader(length=4), random_loader(length=6))
    assert model.counts["train"] == 2 and model.counts["val"] == 3


def test_fit_with_datamodule(tmp_path):
    model = Counting()
    dm = BoringDataModule()
    trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=2, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    assert model.counts["train"] == 3 and model.counts["val"] == 2
    assert model.hook_calls == []
    assert trainer.datamodule is dm
    assert dm.trainer is trainer


def test_fit_with_datamodule_positional(tmp_path):
    model = Counting()
    trainer = make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0)
    trainer.fit(model, BoringDataModule())
    assert model.counts["train"] == 2 and model.hook_calls == []


def test_fit_with_datamodule_and_dataloaders_is_an_error(tmp_path):
    with pytest.raises(MisconfigurationException, match="datamodule"):
        make_trainer(tmp_path).fit(BoringModel(), train_dataloaders=random_loader(), datamodule=BoringDataModule())


@pytest.mark.parametrize("fn", ["validate", "test"])
def test_eval_entry_points_return_logged_metrics(tmp_path, fn):
    model = Counting()
    key = "val_metric" if fn == "validate" else "test_metric"
    count = "val" if fn == "validate" else "test"
    trainer = make_trainer(tmp_path)

    results = getattr(trainer, fn)(model)  # module hooks
    assert isinstance(results, list) and len(results) == 1
    assert set(results[0]) == {key}
    assert isinstance(results[0][key], (float, torch.Tensor))
    assert model.counts[count] == (2 if fn == "validate" else 5)

    results = getattr(trainer, fn)(model, dataloaders=random_loader(length=8))
    assert set(results[0]) == {key}
    assert model.counts[count] == (6 if fn == "validate" else 9)

    results = getattr(trainer, fn)(model, datamodule=BoringDataModule())
    assert set(results[0]) == {key}
    assert float(trainer.callback_metrics[key]) == pytest.approx(float(results[0][key]))


def test_validate_result_value_is_the_epoch_mean(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            loss = self.step(batch)
            self.log("val_loss", loss)
            return loss

    model = Model()
    dl = random_loader(length=8, batch_size=2)
    results = make_trainer(tmp_path).validate(model, dl)
    with torch.no_grad():
        expected = torch.stack([model.step(b) for b in dl]).mean()
    assert float(results[0]["val_loss"]) == pytest.approx(float(expected), rel=1e-5)


def test_predict_returns_predictions(tmp_path):
    model = Counting()
    trainer = make_trainer(tmp_path)
    preds = trainer.predict(model)
    assert len(preds) == 7 and all(p.shape == (2, 2) for p in preds)
    dl = random_loader(length=6, batch_size=3)
    preds = trainer.predict(model, dataloaders=dl)
    assert len(preds) == 2
    with torch.no_grad():
        for p, b in zip(preds, dl):
            assert torch.allclose(p, model(b))
    preds = trainer.predict(model, datamodule=BoringDataModule())
    assert len(preds) == 64
    assert trainer.predict(model, dl, return_predictions=False) is None


def test_predict_with_two_dataloaders_returns_a_list_per_dataloader(tmp_path):
    seen = set()

    class Model(BoringModel):
        def predict_step(self, batch, batch_idx, dataloader_idx=0):
            seen.add(dataloader_idx)
            return self(batch)

    preds = make_trainer(tmp_path).predict(Model(), [random_loader(length=4), random_loader(length=6)])
    assert [len(p) for p in preds] == [2, 3]
    assert seen == {0, 1}


def test_two_val_dataloaders(tmp_path):
    seen = []

    class Model(BoringModel):
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            seen.append(dataloader_idx)
            self.log("v", float(dataloader_idx + 1))

    results = make_trainer(tmp_path).validate(Model(), [random_loader(length=4), random_loader(length=2)])
    assert seen == [0, 0, 1]
    assert results == [{"v/dataloader_idx_0": 1.0}, {"v/dataloader_idx_1": 2.0}]


def test_fit_without_validation_step_skips_validation(tmp_path):
    Model = bare_module_class("training_step", "configure_optimizers")
    called = []

    class Peek(pl.Callback):
        def on_validation_start(self, trainer, pl_module):
            called.append(1)

    trainer = make_trainer(tmp_path, callbacks=[Peek()])
    trainer.fit(Model(), random_loader(length=4), random_loader(length=4))
    assert called == [] and trainer.global_step == 2


def test_datamodule_transfer_hooks_are_used(tmp_path):
    seen = []

    class DM(BoringDataModule):
        def on_before_batch_transfer(self, batch, dataloader_idx):
            return batch * 0 + 1.0

        def on_after_batch_transfer(self, batch, dataloader_idx):
            return batch * 2

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            seen.append(batch)
            return super().training_step(batch, batch_idx)

    make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=0).fit(Model(), datamodule=DM())
    assert all(torch.equal(b, torch.full_like(b, 2.0)) for b in seen) and len(seen) == 2


def test_datamodule_hooks_and_stages(tmp_path):
    stages = []

    class DM(BoringDataModule):
        def prepare_data(self):
            stages.append("prepare_data")

        def setup(self, stage):
            stages.append(f"setup:{stage}")
            super().setup(stage)

        def teardown(self, stage):
            stages.append(f"teardown:{stage}")

    dm = DM()
    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=1, limit_test_batches=1,
                           limit_predict_batches=1)
    model = BoringModel()
    trainer.fit(model, datamodule=dm)
    trainer.validate(model, datamodule=dm)
    trainer.test(model, datamodule=dm)
    trainer.predict(model, datamodule=dm)
    assert stages == [
        "prepare_data", "setup:fit", "teardown:fit",
        "prepare_data", "setup:validate", "teardown:validate",
        "prepare_data", "setup:test", "teardown:test",
        "prepare_data", "setup:predict", "teardown:predict",
    ]


def test_datamodule_from_datasets(tmp_path):
    dm = pl.LightningDataModule.from_datasets(
        train_dataset=RandomDataset(32, 8), val_dataset=RandomDataset(32, 4), batch_size=2
    )
    model = Counting()
    make_trainer(tmp_path, num_sanity_val_steps=0).fit(model, datamodule=dm)
    assert model.counts["train"] == 4 and model.counts["val"] == 2


def test_iterable_without_length(tmp_path):
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            for _ in range(5):
                yield torch.randn(32)

    model = Counting()
    trainer = make_trainer(tmp_path, limit_val_batches=0)
    trainer.fit(model, DataLoader(Stream(), batch_size=2))
    assert model.counts["train"] == 3
    assert trainer.global_step == 3
