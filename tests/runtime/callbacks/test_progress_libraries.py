"""TQDMProgressBar drawn by tqdm, RichProgressBar and RichModelSummary drawn by rich, in real fits."""
import io
import re

import pytest
from torch import nn

import runtime as pl
from runtime.callbacks import RichModelSummary, RichProgressBar, RichProgressBarTheme, TextProgressBar, TQDMProgressBar
from runtime.demos.boring_classes import BoringModel


class Model(BoringModel):
    def training_step(self, batch, batch_idx):
        out = super().training_step(batch, batch_idx)
        self.log("train_loss", out["loss"], prog_bar=True)
        return out


def fit(tmp_path, callbacks, **kwargs):
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, limit_train_batches=4, limit_val_batches=2,
                         logger=False, enable_checkpointing=False, callbacks=callbacks, **kwargs)
    trainer.fit(Model())
    return trainer


def test_tqdm_bar_draws_with_tqdm(tmp_path, capsys):
    from tqdm import tqdm

    bar = TQDMProgressBar(refresh_rate=2)
    trainer = fit(tmp_path, [bar], enable_model_summary=False)
    assert trainer.progress_bar_callback is bar and isinstance(bar.train_progress_bar, tqdm)
    out = capsys.readouterr().out
    assert re.search(r"Epoch 1: 100%\|[^|]*\| 4/4 \[.*train_loss=", out), out
    assert "Validation" in out
    with pytest.raises(ValueError, match="refresh_rate"):
        TQDMProgressBar(refresh_rate=-1)


def test_rich_bar_draws_with_rich(tmp_path):
    from rich.progress import Progress

    seen, sanity = [], []

    class Spy(RichProgressBar):
        def on_train_batch_end(self, *args):
            super().on_train_batch_end(*args)
            seen.append(isinstance(self.progress, Progress))

        def on_sanity_check_end(self, trainer, pl_module):
            task = next(t for t in self.progress.tasks if t.id == self._tasks["sanity"])
            sanity.append((task.completed, task.total))
            super().on_sanity_check_end(trainer, pl_module)

    console = io.StringIO()
    theme = RichProgressBarTheme(metrics="green", metrics_format=".2f")
    bar = Spy(leave=True, theme=theme, console_kwargs={"file": console, "force_terminal": True, "width": 150})
    fit(tmp_path, [bar], enable_model_summary=False)
    assert seen and all(seen) and bar.progress is None  # stopped at teardown
    assert sanity == [(2, 2)]
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console.getvalue())  # without the terminal's escape codes
    assert "Epoch 0" in text and "Epoch 1" in text and "4/4" in text
    assert re.search(r"train_loss: \d+\.\d\d\b", text)  # the theme's metric format


def test_rich_model_summary_table(tmp_path, capsys):
    class Net(BoringModel):
        def __init__(self):
            super().__init__()
            self.layer = nn.Sequential(nn.Linear(32, 8), nn.ReLU(), nn.Linear(8, 2))

    summary = RichModelSummary(max_depth=2)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=1, limit_val_batches=0,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False, callbacks=[summary])
    trainer.fit(Net())
    out = capsys.readouterr().out
    assert "┃" in out or "|" in out  # a rich table
    for cell in ("Name", "Type", "Params", "layer.0", "Linear", "Sequential", "282"):
        assert cell in out, out
    assert re.search(r"282\s+Trainable params", out) and "Total estimated model params size (MB)" in out


def test_our_bar_stays_the_default(tmp_path):
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False)
    assert type(trainer.progress_bar_callback) is TextProgressBar
