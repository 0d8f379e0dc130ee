"""How fixtures/lightning_2_6.ckpt was made: run with PyTorch Lightning installed (2.6.6 here).

    python tests/runtime/checkpoint/make_lightning_fixture.py tests/runtime/checkpoint/fixtures/lightning_2_6.ckpt

The module is the same as ``FixtureModel`` in test_compat.py, so the runtime can load it by class.
"""
import sys

import pytorch_lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class FixtureModel(L.LightningModule):
    def __init__(self, hidden: int = 4, lr: float = 0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1)]


if __name__ == "__main__":
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(8, 3), torch.randn(8, 1))
    trainer = L.Trainer(max_epochs=2, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, accelerator="cpu")
    trainer.fit(FixtureModel(hidden=5), DataLoader(data, batch_size=4))
    trainer.save_checkpoint(sys.argv[1])
