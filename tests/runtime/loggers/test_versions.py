"""Runs started at the same time in one folder each claim their own ``version_N`` (real processes)."""
import csv
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = str(Path(__file__).resolve().parents[3])

_RUN = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    from runtime.loggers import CSVLogger, TensorBoardLogger
    root, run, go = sys.argv[2], sys.argv[3], sys.argv[4]
    loggers = [CSVLogger(root, name="csv"), TensorBoardLogger(root, name="tb")]
    print("ready", flush=True)
    while not os.path.exists(go):  # all start together
        time.sleep(0.001)
    versions = [lg.version for lg in loggers]
    time.sleep(0.2)  # the runs overlap: none has written yet when the others choose
    loggers[0].log_metrics({"run": float(run)}, step=0)
    loggers[0].save()
    print(*versions, flush=True)
""")


@pytest.mark.slow
def test_runs_started_together_get_distinct_versions(tmp_path):
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _RUN, REPO, str(tmp_path / "logs"), str(i), str(go)],
                              stdout=subprocess.PIPE, text=True) for i in range(4)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    go.write_text("")
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    csv_versions, tb_versions = [o[0] for o in outs], [o[1] for o in outs]
    assert sorted(csv_versions) == sorted(tb_versions) == ["0", "1", "2", "3"]
    for run, version in enumerate(csv_versions):  # each metrics.csv holds its own run's rows only
        with open(tmp_path / "logs" / "csv" / f"version_{version}" / "metrics.csv") as f:
            assert [row["run"] for row in csv.DictReader(f)] == [f"{float(run)}"]


def test_a_claimed_version_is_not_given_again_in_one_process(tmp_path):
    from runtime.loggers import CSVLogger, TensorBoardLogger

    a, b = CSVLogger(tmp_path), CSVLogger(tmp_path)
    assert (a.version, b.version) == (0, 1)  # b asked before a wrote anything
    assert os.path.isdir(tmp_path / "lightning_logs" / "version_0")
    (tmp_path / "tb" / "version_0").mkdir(parents=True)
    (tmp_path / "tb" / "version_1").write_text("not a folder")
    assert TensorBoardLogger(tmp_path, name="tb").version == 2
