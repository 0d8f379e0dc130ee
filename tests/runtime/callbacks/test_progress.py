"""Progress bar and model summary: plain lines off a terminal, bounded redraws on one, the summary table."""
import io
import re
import types

import pytest
import torch
from torch import nn

from runtime.callbacks import ModelSummary, ProgressBar, RichProgressBar, TextProgressBar
from runtime.callbacks.progress import text as progress_mod
from runtime.callbacks.model_summary import summarize


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


class _CountingTensor:
    """Stands in for a 0-dim device tensor and counts host reads."""

    reads = 0

    def __init__(self, v):
        self.v = v

    def item(self):
        _CountingTensor.reads += 1
        return self.v

    def numel(self):
        return 1


def _trainer(n_train=4, n_val=(2,), loggers=()):
    return types.SimpleNamespace(
        current_epoch=0,
        num_training_batches=n_train,
        num_val_batches=list(n_val),
        num_sanity_val_batches=[min(2, n) for n in n_val],
        num_test_batches=[3],
        num_predict_batches=[3],
        sanity_checking=False,
        is_global_zero=True,
        progress_bar_metrics={},
        loggers=list(loggers),
        lightning_module=None,
    )


def _run_fit(bar, trainer, epochs=2, val=True):
    """Drive the hooks in Lightning's fit order."""
    bar.setup(trainer, None, "fit")
    if val:
        trainer.sanity_checking = True
        bar.on_sanity_check_start(trainer, None)
        bar.on_validation_start(trainer, None)
        for i in range(trainer.num_sanity_val_batches[0]):
            bar.on_validation_batch_end(trainer, None, None, None, i)
        bar.on_validation_end(trainer, None)
        bar.on_sanity_check_end(trainer, None)
        trainer.sanity_checking = False
    bar.on_train_start(trainer, None)
    for epoch in range(epochs):
        trainer.current_epoch = epoch
        bar.on_train_epoch_start(trainer, None)
        for i in range(trainer.num_training_batches):
            trainer.progress_bar_metrics["loss"] = torch.tensor(1.0 / (i + 1))
            bar.on_train_batch_end(trainer, None, None, None, i)
        if val:
            bar.on_validation_start(trainer, None)
            for i in range(trainer.num_val_batches[0]):
                bar.on_validation_batch_end(trainer, None, None, None, i)
            trainer.progress_bar_metrics["val_loss"] = torch.tensor(0.5 + epoch)
            bar.on_validation_end(trainer, None)
        bar.on_train_epoch_end(trainer, None)
    bar.on_train_end(trainer, None)
    bar.teardown(trainer, None, "fit")


def test_not_a_terminal_prints_one_line_per_epoch_and_validation(monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    logger = types.SimpleNamespace(version=3)
    _run_fit(TextProgressBar(), _trainer(loggers=[logger]))
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("Validation: 2/2 [")
    assert lines[1].startswith("Epoch 0: 4/4 [") and "it/s]" in lines[1]
    assert lines[1].endswith("v_num=3, loss=0.25, val_loss=0.5")
    assert lines[3].startswith("Epoch 1: 4/4 [") and lines[3].endswith("v_num=3, loss=0.25, val_loss=1.5")


def test_not_a_terminal_reads_metrics_only_for_the_printed_lines(monkeypatch):
    monkeypatch.setattr("sys.stdout", _Stream(tty=False))
    trainer = _trainer(n_train=500, n_val=())
    bar = TextProgressBar()
    bar.setup(trainer, None, "fit")
    bar.on_train_start(trainer, None)
    bar.on_train_epoch_start(trainer, None)
    trainer.progress_bar_metrics["loss"] = _CountingTensor(0.1)
    _CountingTensor.reads = 0
    for i in range(500):
        bar.on_train_batch_end(trainer, None, None, None, i)
    assert _CountingTensor.reads == 0
    bar.on_train_epoch_end(trainer, None)
    trainer.progress_bar_metrics["loss_epoch"] = _CountingTensor(0.2)  # published after the callbacks' hook
    bar.on_train_end(trainer, None)
    assert _CountingTensor.reads == 2


def test_epoch_line_includes_metrics_published_after_the_callbacks_epoch_end(monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    trainer = _trainer(n_train=2, n_val=())
    bar = TextProgressBar()
    bar.setup(trainer, None, "fit")
    bar.on_train_start(trainer, None)
    for epoch in range(2):
        trainer.current_epoch = epoch
        bar.on_train_epoch_start(trainer, None)
        for i in range(2):
            bar.on_train_batch_end(trainer, None, None, None, i)
        bar.on_train_epoch_end(trainer, None)
        trainer.progress_bar_metrics["loss_epoch"] = epoch + 0.5  # the module's epoch-end logging
    bar.on_train_end(trainer, None)
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


def test_terminal_redraws_are_time_limited(monkeypatch):
    out = _Stream(tty=True)
    monkeypatch.setattr("sys.stdout", out)
    clock = _Clock(step=100e-6)  # a ~100 us training step between two reads
    monkeypatch.setattr(progress_mod, "time", clock)
    trainer = _trainer(n_train=10_000, n_val=())
    trainer.progress_bar_metrics["loss"] = _CountingTensor(0.1)
    bar = TextProgressBar()
    bar.setup(trainer, None, "fit")
    bar.on_train_start(trainer, None)
    bar.on_train_epoch_start(trainer, None)
    _CountingTensor.reads = 0
    clock.reads, t0 = 0, clock.now
    for i in range(10_000):
        bar.on_train_batch_end(trainer, None, None, None, i)
    elapsed = clock.now - t0
    draws = out.getvalue().count("\r")
    # at most one redraw per _MIN_INTERVAL (plus the first), metrics read less often still
    assert 2 <= draws <= 2 + elapsed / progress_mod._MIN_INTERVAL
    assert 1 <= _CountingTensor.reads <= 2 + elapsed / progress_mod._METRICS_INTERVAL
    # the per-batch cost, counted instead of timed: one clock read per batch, a few more per redraw
    assert clock.reads <= 10_000 + 3 * draws
    bar.on_train_epoch_end(trainer, None)
    bar.on_train_end(trainer, None)
    text = out.getvalue()
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("Epoch 0: 100%|") and "10000/10000" in last and "loss=0.1" in last
    assert text.endswith("\n")


def test_terminal_leave_keeps_a_line_per_epoch(monkeypatch):
    out = _Stream(tty=True)
    monkeypatch.setattr("sys.stdout", out)
    _run_fit(TextProgressBar(leave=True), _trainer(), epochs=3)
    finished = [seg.split("\r")[-1] for seg in out.getvalue().split("\n") if seg.strip()]
    assert [f.split(":")[0] for f in finished] == ["Epoch 0", "Epoch 1", "Epoch 2"]


def test_infinite_total_and_eval_entry_points(monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    trainer = _trainer(n_train=float("inf"), n_val=())
    bar = TextProgressBar()
    bar.setup(trainer, None, "fit")
    bar.on_train_epoch_start(trainer, None)
    for i in range(3):
        bar.on_train_batch_end(trainer, None, None, None, i)
    bar.on_train_epoch_end(trainer, None)
    bar.on_train_end(trainer, None)
    bar.on_test_start(trainer, None)
    for i in range(3):
        bar.on_test_batch_end(trainer, None, None, None, i)
    bar.on_test_end(trainer, None)
    bar.on_predict_start(trainer, None)
    bar.on_predict_batch_end(trainer, None, None, None, 0)
    bar.on_predict_end(trainer, None)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Epoch 0: 3/? [")
    assert lines[1].startswith("Testing: 3/3 [")
    assert lines[2].startswith("Predicting: 1/3 [")


def test_disabled_bar_and_other_ranks_print_nothing(monkeypatch):
    out = _Stream(tty=False)
    monkeypatch.setattr("sys.stdout", out)
    _run_fit(TextProgressBar(refresh_rate=0), _trainer())
    trainer = _trainer()
    trainer.is_global_zero = False
    bar = TextProgressBar()
    _run_fit(bar, trainer)
    assert bar.is_disabled and out.getvalue() == ""
    with pytest.raises(ValueError, match="refresh_rate"):
        TextProgressBar(refresh_rate=-1)
    assert isinstance(RichProgressBar(), ProgressBar)


def test_model_summary_table(capsys):
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

    trainer = types.SimpleNamespace(is_global_zero=True)
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
