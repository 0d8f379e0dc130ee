"""The language model as a LightningModule: next-byte cross-entropy, perplexity, and text generation."""
from pathlib import Path
from typing import Literal

import torch
from torch.nn import functional as F

import runtime as pl

from {{ cookiecutter.package_name }}.models import VOCAB_SIZE, CharTransformer
from {{ cookiecutter.package_name }}.report import RunSummary

try:
    from runtime.metrics import Perplexity
except ImportError:  # an older runtime without metrics: perplexity from the mean loss instead
    Perplexity = None


class LanguageModule(pl.LightningModule):
    """A character-level (byte-level) transformer that predicts the next character.

    Args:
        block_size: characters of context (must not be less than the data's block_size).
        d_model: width of the transformer.
        num_layers: transformer blocks.
        num_heads: attention heads per block.
        dropout: dropout probability.
        optimizer: adam, adamw or sgd.
        lr: learning rate.
        weight_decay: weight decay of the optimizer.
    """

    def __init__(
        self,
        block_size: int = 64,
        d_model: int = 64,
        num_layers: int = 2,
        num_heads: int = 4,
        dropout: float = 0.1,
        optimizer: Literal["adam", "adamw", "sgd"] = "adamw",
        lr: float = 0.003,
        weight_decay: float = 0.01,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.model = CharTransformer(block_size, d_model, num_layers, num_heads, dropout)
        self.val_ppl = Perplexity() if Perplexity is not None else None

    def forward(self, idx):
        return self.model(idx)

    def _loss(self, logits, target):
        return F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), target.reshape(-1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self._loss(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self._loss(logits, y)
        self.log("val_loss", loss, prog_bar=True)
        if self.val_ppl is not None:
            self.val_ppl(logits, y)
            self.log("val_ppl", self.val_ppl, prog_bar=True)

    def on_validation_epoch_end(self):
        if self.val_ppl is None and "val_loss" in self.trainer.callback_metrics:
            self.log("val_ppl", torch.exp(self.trainer.callback_metrics["val_loss"]))
        if not self.trainer.sanity_checking and self.trainer.is_global_zero:
            self.log_samples()

    def log_samples(self, prompts: tuple[str, ...] = ("The ", "We ", "He "), length: int = 80) -> str:
        """A few sampled continuations, saved as ``samples/epoch=NNN.txt`` in the run's folder and shown in
        TensorBoard's text tab, so you can read the model improve."""
        g = torch.Generator().manual_seed(0)  # the same draws every epoch: only the model changes
        # one line per prompt: line breaks and other control characters the model wrote become spaces
        lines = ["".join(c if c.isprintable() else " " for c in self.generate(p, length, generator=g)) for p in prompts]
        text = "\n".join(lines)
        path = Path(self.trainer.log_dir) / "samples" / f"epoch={self.current_epoch:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        for logger in self.trainer.loggers:
            if hasattr(getattr(logger, "experiment", None), "add_text"):
                # markdown: indented lines are shown as they are
                logger.experiment.add_text("samples", "\n".join("    " + line for line in lines), self.global_step)
        return text

    def on_fit_start(self):
        data = getattr(self.trainer, "datamodule", None)
        if data is not None and hasattr(data, "unigram_perplexity"):
            self.unigram_ppl = data.unigram_perplexity()
            self.print(f"unigram model's validation perplexity: {self.unigram_ppl:.2f}")

    def predict_step(self, batch, batch_idx):
        x, _ = batch
        return self(x).argmax(dim=-1)

    @torch.no_grad()
    def generate(self, prompt: str, max_new_chars: int = 200, temperature: float = 0.8, generator=None) -> str:
        """Continue ``prompt`` one sampled character at a time (``generator``: a torch.Generator on the CPU)."""
        was_training = self.training
        self.eval()
        idx = torch.tensor([list(prompt.encode("utf-8")) or [32]], device=self.device)
        for _ in range(max_new_chars):
            logits = self(idx[:, -self.hparams.block_size :])[:, -1] / max(temperature, 1e-6)
            probs = F.softmax(logits.float(), dim=-1).cpu()
            idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator).to(idx.device)], dim=1)
        self.train(was_training)
        return bytes(idx[0].tolist()).decode("utf-8", errors="replace")

    def configure_callbacks(self):
        return [RunSummary(monitor="val_ppl", mode="min", pictures="samples")]

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
        cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
        return cls(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
