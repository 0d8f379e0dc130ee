"""The module and data of fixtures/lightning_2_6.ckpt, written once for both sides.

``fixture_model_class(pl)`` builds ``FixtureModel`` on ``pl.LightningModule``, where ``pl`` is ``runtime`` or
Lightning (``lightning.pytorch`` / ``pytorch_lightning``): make_lightning_fixture.py trains it under Lightning,
test_compat.py loads and resumes the file with the runtime's. Only torch is imported here.
"""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def fixture_model_class(pl):
    class FixtureModel(pl.LightningModule):
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

    return FixtureModel


def loader():
    """8 random (x, y) pairs in batches of 4; seeds the global generator first, so each call gives the same."""
    torch.manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(8, 3), torch.randn(8, 1)), batch_size=4)


def lightning_trainer(L, **kwargs):
    """A Lightning Trainer on the CPU that writes and prints nothing."""
    return L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                     accelerator="cpu", **kwargs)
