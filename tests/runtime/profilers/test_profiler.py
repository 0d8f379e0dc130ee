"""Profilers: what SimpleProfiler records and prints, the report file, selection by name, and a profiled fit."""
import re
import time

import pytest

from runtime.demos.boring_classes import BoringModel
from runtime.profilers import AdvancedProfiler, PassThroughProfiler, Profiler, SimpleProfiler, is_active, select_profiler
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer


def test_simple_profiler_records_calls_and_durations():
    profiler = SimpleProfiler()
    for _ in range(3):
        with profiler.profile("step"):
            time.sleep(0.01)
    with profiler.profile("hook"):
        with profiler.profile("hook"):  # re-entrant: a hook running inside itself is two calls
            pass
    profiler.start("manual")
    profiler.stop("manual")
    stats = profiler.stats()
    assert stats["step"][0] == 3 and stats["step"][1] >= 0.027
    assert stats["hook"][0] == 2 and stats["manual"][0] == 1
    with pytest.raises(ValueError, match="never started"):
        profiler.stop("other")


def test_summary_table_sorted_by_total_time(capsys):
    profiler = SimpleProfiler()
    profiler.setup("fit")
    with profiler.profile("slow"):
        time.sleep(0.02)
    with profiler.profile("fast"):
        pass
    profiler.describe()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "FIT Profiler Report"
    assert re.search(r"\|\s+Action\s+\|\s+Mean duration \(s\)\s+\|\s+Num calls\s+\|\s+Total time \(s\)\s+\|\s+Percentage %", out)
    rows = [line for line in lines if line.startswith("|  slow") or line.startswith("|  fast")]
    assert rows[0].startswith("|  slow") and rows[1].startswith("|  fast")
    assert re.search(r"\|\s+Total\s+\|\s+-\s+\|\s+2\s+\|", out)


def test_report_file(tmp_path, capsys):
    profiler = SimpleProfiler(dirpath=tmp_path, filename="perf", extended=False)
    profiler.setup("fit", local_rank=0)
    with profiler.profile("training_step"):
        pass
    profiler.describe()
    assert capsys.readouterr().out == ""
    text = (tmp_path / "fit-perf-0.txt").read_text()
    assert "training_step" in text and "Num calls" not in text


def test_advanced_and_pass_through(capsys):
    adv = AdvancedProfiler()
    with adv.profile("work"):
        sum(range(1000))
    assert "Profile stats for: work" in adv.summary()
    passthrough = PassThroughProfiler()
    with passthrough.profile("x") as name:
        assert name == "x"
    assert passthrough.summary() == ""


def test_select_profiler():
    assert isinstance(select_profiler("simple"), SimpleProfiler)
    assert isinstance(select_profiler("advanced"), AdvancedProfiler)
    assert isinstance(select_profiler(None), PassThroughProfiler) and not is_active(select_profiler("pass"))
    mine = SimpleProfiler()
    assert select_profiler(mine) is mine and is_active(mine)
    with pytest.raises(MisconfigurationException, match="Did you mean 'simple'"):
        select_profiler("simpel")
    with pytest.raises(TypeError):
        Profiler()  # abstract


def test_fit_with_simple_profiler_prints_the_table(tmp_path, capsys):
    trainer = make_trainer(tmp_path, profiler="simple", limit_train_batches=3, limit_val_batches=1)
    if not isinstance(trainer.profiler, Profiler):
        pytest.skip("the Trainer does not build a profiler from `profiler=` yet")
    trainer.fit(BoringModel())
    out = capsys.readouterr().out
    assert "Profiler Report" in out and "training_step" in out
    stats = trainer.profiler.stats()
    step = next(k for k in stats if k.endswith("training_step"))
    assert stats[step][0] == 3
