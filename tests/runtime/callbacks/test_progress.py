"""Progress bar and model summary: plain lines off a terminal, bounded redraws on one, the summary table."""
import io
import re

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import runtime as pl

from runtime.callbacks import ModelSummary, ProgressBar, RichProgressBar, TextProgressBar, TQDMProgressBar
from runtime.callbacks.progress import text as progress_mod
from runtime.callbacks.model_summary import summarize
from runtime.demos.boring_classes import BoringModel, RandomDataset


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def _fit(tmp_path, bar, model=None, epochs=2, train=4, val=2, **kwargs):
    """A real fit of a tiny module with ``bar`` as the progress bar."""
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=epochs, limit_train_batches=train,
                         limit_val_batches=val, logger=False, enable_checkpointing=False,
                         enable_model_summary=False, callbacks=[bar], **kwargs)
    trainer.fit(model if model is not None else LoggingModel())
    return trainer


class LoggingModel(BoringModel):
    """Logs ``loss`` = 1 / (batch_idx + 1) each step and ``val_loss`` = 0.5 + epoch, both to the bar."""

    def training_step(self, batch, batch_idx):
        self.log("loss", 1.0 / (batch_idx + 1), prog_bar=True)
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", 0.5 + self.current_epoch, prog_bar=True)
        return super().validation_step(batch, batch_idx)


class CountingBar(TextProgressBar):
    """A user's subclass overriding ``get_metrics``: counts the reads of the metrics."""

    calls = 0

    def get_metrics(self, trainer, pl_module):
        self.calls += 1
        return super().get_metrics(trainer, pl_module)


def test_not_a_terminal_prints_one_line_per_epoch_and_validation(tmp_path, monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    _fit(tmp_path, TextProgressBar())
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 4, lines  # the sanity check prints nothing off a terminal
    assert lines[0].startswith("Validation: 2/2 [") and lines[0].endswith("loss=0.25, val_loss=0.5")
    assert lines[1].startswith("Epoch 0: 4/4 [") and "it/s]" in lines[1]
    assert lines[1].endswith("loss=0.25, val_loss=0.5")
    assert lines[3].startswith("Epoch 1: 4/4 [") and lines[3].endswith("loss=0.25, val_loss=1.5")


def test_a_subclass_get_metrics_and_v_num(tmp_path, monkeypatch):
    class Bar(TextProgressBar):
        def get_metrics(self, trainer, pl_module):
            items = super().get_metrics(trainer, pl_module)
            items.pop("val_loss", None)
            return {**items, "lr": pl_module.learning_rate}

    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    model = LoggingModel()
    model.learning_rate = 0.125
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=2, limit_val_batches=1,
                         logger=pl.loggers.CSVLogger(tmp_path, version=3), enable_checkpointing=False,
                         enable_model_summary=False, callbacks=[Bar()])
    trainer.fit(model)
    assert out.getvalue().splitlines()[-1].endswith("v_num=3, loss=0.5, lr=0.125")


def test_not_a_terminal_reads_metrics_only_for_the_printed_lines(tmp_path, monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    bar = CountingBar()
    _fit(tmp_path, bar, epochs=2, train=32, val=0)
    assert len(out.getvalue().splitlines()) == 2
    assert bar.calls == 2  # one read per printed line, none per batch


def test_epoch_line_includes_metrics_published_after_the_callbacks_epoch_end(tmp_path, monkeypatch):
    class Model(BoringModel):
        def on_train_epoch_end(self):
            self.log("loss_epoch", self.current_epoch + 0.5, prog_bar=True)

    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    _fit(tmp_path, TextProgressBar(), Model(), train=2, val=0)
    lines = out.getvalue().splitlines()
    assert [ln.split(" ")[1] for ln in lines] == ["0:", "1:"]
    assert lines[0].endswith("loss_epoch=0.5") and lines[1].endswith("loss_epoch=1.5")


class _Clock:
    """Stands in for the progress module's ``time``: each read is ``step`` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.reads = 1000.0, step, 0

    def perf_counter(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def test_terminal_redraws_are_time_limited(tmp_path, monkeypatch):
    out = _Stream(tty=True)
    monkeypatch.setattr("sys.stdout", out)
    clock = _Clock(step=0.01)  # a 10 ms training step between two reads
    monkeypatch.setattr(progress_mod, "time", clock)
    seen = {}

    class Bar(CountingBar):
        def on_train_epoch_start(self, trainer, pl_module):
            super().on_train_epoch_start(trainer, pl_module)
            seen.update(reads=clock.reads, now=clock.now, calls=self.calls, draws=out.getvalue().count("\r"))

        def on_train_epoch_end(self, trainer, pl_module):
            seen.update(reads=clock.reads - seen["reads"], elapsed=clock.now - seen["now"],
                        calls=self.calls - seen["calls"], draws=out.getvalue().count("\r") - seen["draws"])
            super().on_train_epoch_end(trainer, pl_module)

    n = 400
    model = LoggingModel()
    model.train_dataloader = lambda: DataLoader(RandomDataset(32, n), batch_size=1)
    _fit(tmp_path, Bar(), model, epochs=1, train=n, val=0)
    # at most one redraw per _MIN_INTERVAL, metrics read less often still
    assert 2 <= seen["draws"] <= 1 + seen["elapsed"] / progress_mod._MIN_INTERVAL
    assert 1 <= seen["calls"] <= 1 + seen["elapsed"] / progress_mod._METRICS_INTERVAL
    # the per-batch cost, counted instead of timed: one clock read per batch, a few more per redraw
    assert seen["reads"] <= n + 3 * seen["draws"]
    text = out.getvalue()
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("Epoch 0: 100%|") and f"{n}/{n}" in last and "loss=0.0025" in last
    assert text.endswith("\n")


def test_terminal_sanity_check_counts_its_own_batches(tmp_path, monkeypatch):
    out = _Stream(tty=True)
    monkeypatch.setattr("sys.stdout", out)
    seen = []

    class Bar(TextProgressBar):
        def on_sanity_check_end(self, trainer, pl_module):
            seen.append((self._eval.n, self._eval.total))
            super().on_sanity_check_end(trainer, pl_module)

    _fit(tmp_path, Bar(), epochs=1, val=5, num_sanity_val_steps=2)
    assert seen == [(2, 2)]


def test_terminal_leave_keeps_a_line_per_epoch(tmp_path, monkeypatch):
    out = _Stream(tty=True)
    monkeypatch.setattr("sys.stdout", out)
    _fit(tmp_path, TextProgressBar(leave=True), epochs=3)
    finished = [seg.split("\r")[-1] for seg in out.getvalue().split("\n") if seg.strip()]
    assert [f.split(":")[0] for f in finished] == ["Epoch 0", "Epoch 1", "Epoch 2"]


class _NoLen(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter([torch.randn(32) for _ in range(3)])


def test_infinite_total_and_eval_entry_points(tmp_path, monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    model = BoringModel()
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_model_summary=False, callbacks=[TextProgressBar()])
    trainer.fit(model, train_dataloaders=DataLoader(_NoLen(), batch_size=None))
    trainer.test(model, dataloaders=DataLoader(RandomDataset(32, 6), batch_size=2), verbose=False)
    trainer.predict(model, dataloaders=DataLoader(RandomDataset(32, 2), batch_size=2))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Epoch 0: 3/? [")
    assert lines[1].startswith("Testing: 3/3 [")
    assert lines[2].startswith("Predicting: 1/1 [")


def test_disabled_bar_and_other_ranks_print_nothing(tmp_path, monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    _fit(tmp_path, TextProgressBar(refresh_rate=0), epochs=1)
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False)
    monkeypatch.setattr(type(trainer.strategy), "is_global_zero", property(lambda self: False))
    bar = TextProgressBar()
    _fit(tmp_path, bar, epochs=1)
    assert bar.is_disabled and out.getvalue() == ""
    with pytest.raises(ValueError, match="refresh_rate"):
        TextProgressBar(refresh_rate=-1)
    assert isinstance(RichProgressBar(), ProgressBar)


def test_model_summary_table(tmp_path, capsys):
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Sequential(nn.Linear(64, 10), nn.BatchNorm1d(10)))
    model[0].weight.requires_grad_(False)
    s = summarize(model, max_depth=1)
    assert s.layer_names == ["0", "1", "2"]
    assert s.layer_types == ["Linear", "ReLU", "Sequential"]
    assert s.param_nums == [32 * 64 + 64, 0, 64 * 10 + 10 + 20]
    assert s.total_parameters == 2112 + 670
    assert s.trainable_parameters == s.total_parameters - 32 * 64
    assert s.model_size == pytest.approx(s.total_parameters * 4 / 1e6)
    assert summarize(model, max_depth=-1).layer_names == ["0", "1", "2", "2.0", "2.1"]
    assert summarize(model, max_depth=0).layer_names == []

    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False)
    ModelSummary(max_depth=2).on_fit_start(trainer, model)
    text = capsys.readouterr().out
    assert "| Name | Type" in text and re.search(r"\| 2\.1\s+\| BatchNorm1d\s+\| 20\s+\| train", text)
    assert "2.8 K     Total params" in text and "2.0 K     Non-trainable params" in text
    assert "Total estimated model params size (MB)" in text
    ModelSummary(max_depth=0).on_fit_start(trainer, model)
    assert capsys.readouterr().out == ""


def test_model_summary_counts_shared_parameters_once():
    lin = nn.Linear(4, 4)
    model = nn.ModuleDict({"a": lin, "b": lin})
    assert summarize(model).total_parameters == 20


# ------------------------------------------------------------------------------------------ real fits


def test_fit_output_off_a_terminal(tmp_path, capsys):
    import runtime
    from runtime.demos.boring_classes import BoringModel

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            self.log("train_loss", out["loss"], prog_bar=True)
            return out

        def validation_step(self, batch, batch_idx):
            out = super().validation_step(batch, batch_idx)
            self.log("val_loss", out["x"], prog_bar=True)
            return out

    trainer = runtime.Trainer(
        max_epochs=3, default_root_dir=tmp_path, limit_train_batches=5, limit_val_batches=2, enable_checkpointing=False
    )
    assert any(isinstance(cb, TextProgressBar) for cb in trainer.callbacks)
    assert any(isinstance(cb, ModelSummary) for cb in trainer.callbacks)
    trainer.fit(Model())
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    summary_end = next(i for i, ln in enumerate(lines) if ln.endswith("Total estimated model params size (MB)"))
    assert re.match(r"0 \| layer \| Linear \| 66\s+\| train", lines[2])
    bar_lines = lines[summary_end + 1:]
    assert len(bar_lines) == 6, bar_lines  # one validation line and one epoch line per epoch
    for epoch in range(3):
        val, ep = bar_lines[2 * epoch], bar_lines[2 * epoch + 1]
        assert val.startswith("Validation: 2/2 [") and "val_loss=" in val
        assert ep.startswith(f"Epoch {epoch}: 5/5 [") and "it/s]" in ep
        assert "v_num=0" in ep and "train_loss=" in ep and "val_loss=" in ep


def test_fit_without_progress_bar_or_summary(tmp_path, capsys):
    import runtime
    from runtime.demos.boring_classes import BoringModel

    trainer = runtime.Trainer(
        max_epochs=1, default_root_dir=tmp_path, limit_train_batches=2, limit_val_batches=1,
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False, logger=False,
    )
    assert not any(isinstance(cb, (ProgressBar, ModelSummary)) for cb in trainer.callbacks)
    trainer.fit(BoringModel())
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------- the base and the built-in bars


class LitProgressBar(ProgressBar):
    """Lightning's documented subclass of the base: its own switch (an ``enable`` attribute) and counters."""

    def __init__(self):
        super().__init__()
        self.enable = True
        self.refresh_rate = 2  # an attribute of its own: the base must not make this read-only
        self.lines = []

    def disable(self):
        self.enable = False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if self.enable and (batch_idx + 1) % self.refresh_rate == 0:
            self.lines.append(f"{(batch_idx + 1) / self.total_train_batches * 100:.01f} percent complete")


def test_a_user_subclass_of_the_base_keeps_its_own_switch(tmp_path, monkeypatch):
    bar = LitProgressBar()
    trainer = _fit(tmp_path, bar, epochs=1)
    assert trainer.progress_bar_callback is bar and bar.is_enabled
    assert bar.lines == ["50.0 percent complete", "100.0 percent complete"]
    monkeypatch.setattr(type(trainer.strategy), "is_global_zero", property(lambda self: False))
    other_rank = LitProgressBar()
    _fit(tmp_path, other_rank, epochs=1)
    assert other_rank.enable is False and other_rank.lines == []
    with pytest.raises(NotImplementedError):  # Lightning's base leaves the switch to its subclasses
        ProgressBar().disable()


@pytest.mark.parametrize("cls", [TextProgressBar, TQDMProgressBar, RichProgressBar])
def test_built_in_bars_share_refresh_rate_and_switch(cls):
    bar = cls(refresh_rate=3)
    assert bar.refresh_rate == 3 and bar.process_position == 0 and bar.is_enabled
    bar.disable()
    assert bar.is_disabled
    bar.enable()
    assert bar.is_enabled
    assert cls(refresh_rate=0).is_disabled
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="refresh_rate"):
            cls(refresh_rate=bad)
