"""BaseFinetuning / BackboneFinetuning: freeze before training, unfreeze as a new optimizer group, resume it."""
import pytest
import torch
from torch.utils.data import DataLoader

from runtime.callbacks.finetuning import BackboneFinetuning, BaseFinetuning
from runtime.demos import BoringModel, RandomDataset
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer


class BackboneModel(BoringModel):
    def __init__(self):
        super().__init__()
        self.backbone = torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.BatchNorm1d(32))
        self.layer = torch.nn.Linear(32, 2)

    def forward(self, x):
        return self.layer(self.backbone(x))

    def train_dataloader(self):
        return DataLoader(RandomDataset(32, 16), batch_size=4)

    def configure_optimizers(self):
        return torch.optim.SGD([p for p in self.parameters() if p.requires_grad], lr=0.1)


def test_backbone_unfreezes_at_epoch_and_ramps_lr(tmp_path):
    seen = []

    class Spy(BackboneFinetuning):
        def on_train_epoch_end(self, trainer, pl_module):
            seen.append([g["lr"] for g in trainer.optimizers[0].param_groups])

    model = BackboneModel()
    cb = Spy(unfreeze_backbone_at_epoch=1, lambda_func=lambda epoch: 1.5, backbone_initial_ratio_lr=0.1,
             train_bn=False)
    trainer = make_trainer(tmp_path, max_epochs=3, limit_val_batches=0, callbacks=[cb])
    trainer.fit(model)
    # epoch 0: only the head (and nothing of the frozen backbone) trains
    assert seen[0] == [0.1]
    assert seen[1] == pytest.approx([0.1, 0.01])  # joins at 0.1 * 0.1
    assert seen[2] == pytest.approx([0.1, 0.015])  # then x1.5 per epoch
    assert all(p.requires_grad for p in model.backbone[0].parameters())
    # freeze() leaves BatchNorm trainable (so it joined the first group); train_bn=False keeps it out of the new one
    added = trainer.optimizers[0].param_groups[1]["params"]
    assert {id(p) for p in added} == {id(p) for p in model.backbone[0].parameters()}
    names = [p for g in cb.state_dict()["internal_optimizer_metadata"][0] for p in g["params"]]
    assert "backbone.0.weight" in names and "layer.weight" in names


def test_resume_rebuilds_the_added_group(tmp_path):
    model = BackboneModel()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_val_batches=0,
                           callbacks=[BackboneFinetuning(unfreeze_backbone_at_epoch=1)])
    trainer.fit(model)
    ckpt = tmp_path / "x.ckpt"
    trainer.save_checkpoint(ckpt)

    resumed = make_trainer(tmp_path, max_epochs=3, limit_val_batches=0,
                           callbacks=[BackboneFinetuning(unfreeze_backbone_at_epoch=1)])
    resumed.fit(BackboneModel(), ckpt_path=ckpt)
    groups = resumed.optimizers[0].param_groups
    assert len(groups) == 2 and len(groups[1]["params"]) == 2  # the backbone Linear (its BatchNorm is in group 0)


def test_backbone_required(tmp_path):
    with pytest.raises(MisconfigurationException, match="backbone"):
        make_trainer(tmp_path, fast_dev_run=True, callbacks=[BackboneFinetuning()]).fit(BoringModel())


def test_helpers():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.BatchNorm1d(2), torch.nn.ReLU()))
    assert len(BaseFinetuning.flatten_modules(net)) == 3
    BaseFinetuning.freeze(net, train_bn=True)
    assert not net[0].weight.requires_grad and net[1][0].weight.requires_grad
    opt = torch.optim.SGD(net[1].parameters(), lr=1.0)
    with pytest.warns(UserWarning, match="already exist"):
        BaseFinetuning.unfreeze_and_add_param_group(net, opt, initial_denom_lr=4.0)
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.25
    assert len(opt.param_groups[1]["params"]) == 2  # the Linear's, not the BatchNorm's again


def test_subclass_must_implement_hooks(tmp_path):
    with pytest.raises(NotImplementedError, match="freeze_before_training"):
        make_trainer(tmp_path, fast_dev_run=True, callbacks=[BaseFinetuning()]).fit(BoringModel())
