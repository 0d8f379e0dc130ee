"""Run a chosen set of Lightning's own tests against ``runtime``, imports renamed, and count what passes.

Lightning's ``tests/tests_pytorch`` is the spec for the public API. This script copies the files named in
``MANIFEST`` from a local Lightning checkout into a scratch folder, renames ``lightning.pytorch`` /
``pytorch_lightning`` / ``lightning.fabric`` to ``runtime``, replaces Lightning's test ``conftest.py`` and
``RunIf`` with small equivalents of ours (theirs import Lightning internals), runs each file with pytest in
its own process and prints passed / failed / skipped per file and in total.

``--baseline PYTHON`` runs the same files unchanged under an interpreter that has Lightning installed, and
``--compare`` reads both result files and prints how many of the tests Lightning passes also pass here::

    python bench/lightning_tests.py --lightning /work/scratch/issue13/lightning --work /work/scratch/issue13/run
    python bench/lightning_tests.py --baseline /work/venv-pl/bin/python --work /work/scratch/issue13/base
    python bench/lightning_tests.py --compare /work/scratch/issue13/base /work/scratch/issue13/run

Nothing here is copied into the repository: the copies live under ``--work``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# the public-API files of issue 13: callbacks, checkpointing, trainer flags, optimization, hook order,
# hparams, CSV logger, logging
MANIFEST = [
    "callbacks/test_callbacks.py",
    "callbacks/test_early_stopping.py",
    "callbacks/test_finetuning_callback.py",
    "callbacks/test_gradient_accumulation_scheduler.py",
    "callbacks/test_lambda_function.py",
    "callbacks/test_lr_monitor.py",
    "callbacks/test_prediction_writer.py",
    "callbacks/test_timer.py",
    "checkpointing/test_checkpoint_callback_frequency.py",
    "checkpointing/test_model_checkpoint.py",
    "checkpointing/test_trainer_checkpoint.py",
    "trainer/flags/test_check_val_every_n_epoch.py",
    "trainer/flags/test_fast_dev_run.py",
    "trainer/flags/test_limit_batches.py",
    "trainer/flags/test_min_max_epochs.py",
    "trainer/flags/test_val_check_interval.py",
    "trainer/optimization/test_manual_optimization.py",
    "trainer/optimization/test_multiple_optimizers.py",
    "trainer/optimization/test_optimizers.py",
    "models/test_hooks.py",
    "models/test_hparams.py",
    "loggers/test_csv.py",
    "trainer/logging_/test_train_loop_logging.py",
    "trainer/logging_/test_eval_loop_logging.py",
]

# the modules built for issue 13 beyond the public-API set (run with --extra)
EXTRA = [
    "callbacks/test_device_stats_monitor.py",
    "callbacks/test_throughput_monitor.py",
    "tuner/test_scale_batch_size.py",
    "profilers/test_profiler.py",
    "utilities/test_model_summary.py",
    "utilities/test_parsing.py",
    "utilities/test_memory.py",
    "utilities/test_grads.py",
    "utilities/test_model_helpers.py",
    "core/test_saving.py",
    "models/test_restore.py",
    "accelerators/test_cpu.py",
]

# test-only libraries Lightning's tests import; linked from the baseline interpreter when ours lacks them
TEST_DEPS = ["lightning_utilities", "torchmetrics"]

RENAMES = [
    (re.compile(r"\blightning\.pytorch\b"), "runtime"),
    (re.compile(r"\bpytorch_lightning\b"), "runtime"),
    (re.compile(r"\blightning\.fabric\b"), "runtime"),
    (re.compile(r"\blightning_fabric\b"), "runtime"),
    (re.compile(r"^import lightning as L$", re.M), "import runtime as L"),
    (re.compile(r"^from lightning import ", re.M), "from runtime import "),
]

# our stand-in for Lightning's tests_pytorch/conftest.py: the fixtures the chosen files use
CONFTEST = '''
import logging
import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _restore_env_and_globals():
    env = dict(os.environ)
    deterministic = torch.are_deterministic_algorithms_enabled()
    yield
    os.environ.clear()
    os.environ.update(env)
    torch.use_deterministic_algorithms(deterministic)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@pytest.fixture
def caplog(caplog):
    names = [n for n in logging.root.manager.loggerDict if n.startswith("runtime")]
    saved = {n: logging.getLogger(n).propagate for n in names}
    for n in names:
        logging.getLogger(n).propagate = True
    yield caplog
    for n, p in saved.items():
        logging.getLogger(n).propagate = p


def mock_cuda_count(monkeypatch, n):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)


@pytest.fixture
def cuda_count_0(monkeypatch):
    mock_cuda_count(monkeypatch, 0)


@pytest.fixture
def cuda_count_1(monkeypatch):
    mock_cuda_count(monkeypatch, 1)


@pytest.fixture
def cuda_count_2(monkeypatch):
    mock_cuda_count(monkeypatch, 2)


@pytest.fixture
def cuda_count_4(monkeypatch):
    mock_cuda_count(monkeypatch, 4)


def mock_mps_count(monkeypatch, n):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: n > 0)


@pytest.fixture
def mps_count_0(monkeypatch):
    mock_mps_count(monkeypatch, 0)


@pytest.fixture
def mps_count_1(monkeypatch):
    mock_mps_count(monkeypatch, 1)


@pytest.fixture
def single_process_pg():
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)
    os.environ.update(MASTER_ADDR="localhost", MASTER_PORT=str(port), RANK="0", WORLD_SIZE="1")
    torch.distributed.init_process_group("gloo")
    try:
        yield
    finally:
        torch.distributed.destroy_process_group()
        os.environ.clear()
        os.environ.update(env)
'''

# our stand-in for tests_pytorch/helpers/runif.py: skip what needs hardware or libraries we lack
RUNIF = '''
import importlib.util
import sys

import pytest
import torch
from packaging.version import Version


def _has(module):
    return importlib.util.find_spec(module) is not None


def RunIf(*, min_cuda_gpus=0, min_torch=None, max_torch=None, min_python=None, bf16_cuda=False, tpu=False,
          mps=None, skip_windows=False, standalone=False, deepspeed=False, dynamo=False, rich=False,
          omegaconf=False, psutil=False, sklearn=False, onnx=False, linux_only=False, onnxscript=False,
          tensorrt=False):
    torch_version = Version(torch.__version__.split("+")[0])
    reasons = []
    if min_cuda_gpus and torch.cuda.device_count() < min_cuda_gpus:
        reasons.append(f"GPUs>={min_cuda_gpus}")
    if min_torch and torch_version < Version(min_torch):
        reasons.append(f"torch>={min_torch}")
    if max_torch and torch_version >= Version(max_torch):
        reasons.append(f"torch<{max_torch}")
    if min_python and sys.version_info < tuple(int(x) for x in min_python.split(".")):
        reasons.append(f"python>={min_python}")
    if bf16_cuda and not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        reasons.append("bf16 CUDA")
    if tpu:
        reasons.append("TPU")
    if mps is True and not torch.backends.mps.is_available():
        reasons.append("MPS")
    if mps is False and torch.backends.mps.is_available():
        reasons.append("not MPS")
    if standalone:
        reasons.append("standalone")
    if deepspeed and not _has("deepspeed"):
        reasons.append("deepspeed")
    if rich and not _has("rich"):
        reasons.append("rich")
    if omegaconf and not _has("omegaconf"):
        reasons.append("omegaconf")
    if psutil and not _has("psutil"):
        reasons.append("psutil")
    if sklearn and not _has("sklearn"):
        reasons.append("sklearn")
    if onnx and not _has("onnx"):
        reasons.append("onnx")
    if onnxscript and not _has("onnxscript"):
        reasons.append("onnxscript")
    if tensorrt:
        reasons.append("tensorrt")
    return pytest.mark.skipif(condition=bool(reasons), reason="Requires: [" + " + ".join(reasons) + "]")


_xfail_gloo_windows = pytest.mark.skipif(False, reason="")
'''


def rename(text: str) -> str:
    for pattern, new in RENAMES:
        text = pattern.sub(new, text)
    return text


def prepare(lightning: Path, work: Path, files: list[str], baseline: bool, deps_from: str | None) -> None:
    src = lightning / "tests" / "tests_pytorch"
    if not src.is_dir():
        sys.exit(f"{src} not found: pass --lightning with a checkout of Lightning-AI/pytorch-lightning")
    if work.exists():
        shutil.rmtree(work)
    dst = work / "tests_pytorch"
    dst.mkdir(parents=True)
    convert = (lambda t: t) if baseline else rename
    copied = ["__init__.py", *(p.relative_to(src).as_posix() for p in (src / "helpers").glob("*.py")), *files]
    if baseline:
        copied.append("conftest.py")
    for rel in copied:
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        for parent in target.relative_to(dst).parents:
            init = dst / parent / "__init__.py"
            if not init.exists():
                init.write_text("")
        target.write_text(convert((src / rel).read_text()))
    if not baseline:
        (dst / "conftest.py").write_text(CONFTEST)
        (dst / "helpers" / "runif.py").write_text(RUNIF)
        if deps_from:
            deps = work / "_deps"
            deps.mkdir()
            site = subprocess.check_output(
                [deps_from, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
            ).strip()
            for name in TEST_DEPS:
                if (Path(site) / name).exists():
                    (deps / name).symlink_to(Path(site) / name)


def run(work: Path, files: list[str], python: str, baseline: bool, timeout: int, keyword: str | None) -> dict:
    env = dict(os.environ)
    paths = [str(work)]
    if not baseline:
        paths += [str(work / "_deps"), str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("PL_DISABLE_FORK", "1")
    results: dict[str, dict[str, str]] = {}
    for rel in files:
        xml = work / "_xml" / (rel.replace("/", "__") + ".xml")
        xml.parent.mkdir(exist_ok=True)
        cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", "--timeout=120",
               "-o", "addopts=", "-W", "ignore::DeprecationWarning", f"tests_pytorch/{rel}"]
        if keyword:
            cmd += ["-k", keyword]
        try:
            subprocess.run(cmd, cwd=work, env=env, timeout=timeout, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        results[rel] = parse(xml)
        counts = summarize(results[rel])
        print(f"{rel:60s} passed {counts['passed']:4d}  failed {counts['failed']:4d}  skipped {counts['skipped']:4d}",
              flush=True)
    total = summarize({k: v for r in results.values() for k, v in r.items()})
    print(f"{'TOTAL':60s} passed {total['passed']:4d}  failed {total['failed']:4d}  skipped {total['skipped']:4d}")
    (work / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    return results


def parse(xml: Path) -> dict[str, str]:
    """Test id -> passed / failed / skipped; a file that did not import counts as one failure."""
    if not xml.exists():
        return {"<file timed out or crashed>": "failed"}
    out = {}
    for case in ET.parse(xml).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            out[name] = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            out[name] = "failed"
        else:
            out[name] = "passed"
    return out


def summarize(outcomes: dict[str, str]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in outcomes.values():
        counts[outcome] += 1
    return counts


def compare(base: Path, ours: Path) -> None:
    theirs = json.loads((base / "results.json").read_text())
    mine = json.loads((ours / "results.json").read_text())
    total_base = total_both = 0
    for rel, outcomes in theirs.items():
        if rel not in mine:
            continue  # only the files both runs ran
        passed = [t for t, o in outcomes.items() if o == "passed"]
        here = mine.get(rel, {})
        both = [t for t in passed if here.get(t) == "passed"]
        total_base += len(passed)
        total_both += len(both)
        print(f"{rel:60s} {len(both):4d} / {len(passed):4d}")
    share = 100 * total_both / max(total_base, 1)
    print(f"{'TOTAL':60s} {total_both:4d} / {total_base:4d}  ({share:.1f}% of what Lightning passes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lightning", type=Path, default=Path("/work/scratch/issue13/lightning-2.6.5"),
                        help="a checkout of Lightning-AI/pytorch-lightning")
    parser.add_argument("--work", type=Path, default=Path("/work/scratch/issue13/run"), help="scratch folder")
    parser.add_argument("--baseline", metavar="PYTHON", help="run the files unchanged under this interpreter")
    parser.add_argument("--deps-from", metavar="PYTHON", default="/work/venv-pl/bin/python",
                        help=f"interpreter whose {', '.join(TEST_DEPS)} the renamed tests may borrow")
    parser.add_argument("--extra", action="store_true", help="also run the files of the modules issue 13 added")
    parser.add_argument("--files", nargs="*", help="only these manifest entries")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per file")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BASE", "OURS"))
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    files = args.files or MANIFEST + (EXTRA if args.extra else [])
    baseline = args.baseline is not None
    deps = args.deps_from if args.deps_from and Path(args.deps_from).exists() else None
    prepare(args.lightning, args.work, files, baseline, deps)
    run(args.work, files, args.baseline or sys.executable, baseline, args.timeout, args.keyword)


if __name__ == "__main__":
    main()
