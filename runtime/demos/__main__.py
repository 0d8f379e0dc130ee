"""``python -m runtime.demos``: a short CPU training run of BoringModel, to check an installation."""
import argparse
import tempfile

import torch

import runtime as pl
from runtime.demos.boring_classes import BoringModel


class DemoModel(BoringModel):
    def training_step(self, batch, batch_idx):
        loss = self.step(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.step(batch), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--root", default=None, help="where logs and checkpoints go (default: a temporary folder)")
    args = parser.parse_args()
    pl.seed_everything(42)
    root = args.root or tempfile.mkdtemp(prefix="runtime-demo-")
    trainer = pl.Trainer(max_epochs=args.max_epochs, accelerator="cpu", default_root_dir=root)
    trainer.fit(DemoModel())
    print(f"final train_loss={trainer.callback_metrics['train_loss'].item():.4f} val_loss={trainer.callback_metrics['val_loss'].item():.4f}")
    print(f"logs and checkpoints: {trainer.log_dir}")


if __name__ == "__main__":
    main()
