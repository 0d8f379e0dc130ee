"""profiler="pytorch": torch.profiler records the run under the hooks' names; the report and trace are written."""
import json

import pytest
import torch

from runtime.demos import BoringModel
from runtime.profilers import select_profiler
from runtime.profilers.pytorch import PyTorchProfiler
from tests.runtime.helpers import make_trainer


def test_by_name_and_report_printed(tmp_path, capsys):
    assert isinstance(select_profiler("pytorch"), PyTorchProfiler)
    make_trainer(tmp_path, max_steps=2, limit_val_batches=1, profiler="pytorch").fit(BoringModel())
    out = capsys.readouterr().out
    assert "FIT Profiler Report" in out and "BoringModel.training_step" in out


def test_files_and_trace(tmp_path):
    profiler = PyTorchProfiler(dirpath=tmp_path, filename="perf", sort_by_key="cpu_time_total", row_limit=-1)
    make_trainer(tmp_path, max_steps=2, limit_val_batches=1, profiler=profiler).fit(BoringModel())
    report = next(tmp_path.glob("fit-perf*.txt")).read_text()
    assert "training_step" in report
    trace = json.loads(next(tmp_path.glob("fit-perf*.pt.trace.json")).read_text())
    names = {e.get("name", "") for e in trace["traceEvents"]}
    assert any(n.endswith("BoringModel.training_step") for n in names)


def test_schedule_steps_on_step_actions(tmp_path):
    profiler = PyTorchProfiler(schedule=torch.profiler.schedule(wait=1, warmup=1, active=2), dirpath=tmp_path,
                               filename="p")
    make_trainer(tmp_path, max_steps=6, limit_val_batches=0, profiler=profiler).fit(BoringModel())
    assert next(tmp_path.glob("fit-p*.txt")).read_text()


def test_bad_arguments():
    with pytest.raises(ValueError, match="sort_by_key"):
        PyTorchProfiler(sort_by_key="speed")
    with pytest.raises(KeyError, match="row_limit"):
        PyTorchProfiler(table_kwargs={"row_limit": 3})
