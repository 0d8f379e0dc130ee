"""`--verify`: run the original script and the new project a few steps on the CPU and compare their losses.

Both run in their own process under the same small tracer: ``torch.Tensor.backward`` is wrapped to record the
value it is called on, and the run is stopped (a BaseException, so a script's ``except Exception`` cannot swallow
it) after the first N backward calls. CUDA is hidden from both, so a script that picks ``cuda`` when it is
available runs on the CPU like the project. The project runs ``train.py fit`` with logging, checkpoints, the
sanity check and the progress bar off; none of those draws random numbers, so with the same seed the data
order and the initial weights are the same and, for the automatic cases, the losses match exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scaffold.refactor.errors import VerifyError

_MARK = "@@scaffold-verify@@"
_TOLERANCE = 1e-6

_TRACER = r"""
import json, os, runpy, sys
import torch

K = int(os.environ["SCAFFOLD_VERIFY_STEPS"])
losses = []


class _Stop(BaseException):
    pass


_backward = torch.Tensor.backward
_inside = []


def backward(self, *args, **kwargs):
    losses.append(float(self.detach().double().sum()))
    _inside.append(1)
    try:
        _backward(self, *args, **kwargs)
    finally:
        _inside.pop()
    if len(losses) >= K:
        raise _Stop()


_autograd_backward = torch.autograd.backward


def autograd_backward(tensors, *args, **kwargs):
    if not _inside:
        t = tensors[0] if isinstance(tensors, (list, tuple)) else tensors
        losses.append(float(t.detach().double().sum()))
    _autograd_backward(tensors, *args, **kwargs)
    if not _inside and len(losses) >= K:
        raise _Stop()


torch.Tensor.backward = backward
torch.autograd.backward = autograd_backward
torch.cuda.is_available = lambda: False
if hasattr(torch.backends, "mps"):
    torch.backends.mps.is_available = lambda: False
seed = os.environ.get("SCAFFOLD_VERIFY_SEED")
if seed:
    torch.manual_seed(int(seed))
path = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
status = "finished"
try:
    runpy.run_path(path, run_name="__main__")
except _Stop:
    status = "stopped"
except SystemExit as err:
    status = f"exit {err.code}"
print("MARK" + json.dumps({"losses": losses[:K], "status": status}), flush=True)
""".replace("MARK", _MARK)


@dataclass
class Comparison:
    script_losses: list[float]
    project_losses: list[float]
    steps: int
    match: bool
    text: str


def _run(path: Path, argv: list[str], cwd: Path, steps: int, seed: int | None, timeout: int) -> list[float]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the runtime the project imports, wherever scaffold runs from
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), root, env.get("PYTHONPATH", "")])
    env["SCAFFOLD_VERIFY_STEPS"] = str(steps)
    env["CUDA_VISIBLE_DEVICES"] = ""
    env.pop("PL_GLOBAL_SEED", None)
    if seed is not None:
        env["SCAFFOLD_VERIFY_SEED"] = str(seed)
    try:
        proc = subprocess.run([sys.executable, "-c", _TRACER, str(path), *argv], cwd=str(cwd), env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise VerifyError(f"--verify: {path.name} did not reach {steps} backward() calls within {timeout} s") from None
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])["losses"]
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    raise VerifyError(f"--verify: running {path.name} failed (exit code {proc.returncode}):\n{tail}")


def compare(script: Path, project: Path, script_args: list[str], steps: int = 5, precision: str = "32-true",
            seed: int | None = None, timeout: int = 600) -> Comparison:
    """Run both for ``steps`` backward calls and compare the loss values (to 1e-6)."""
    import tempfile

    script = Path(script).resolve()
    project = Path(project).resolve()
    with tempfile.TemporaryDirectory(prefix="scaffold-verify-") as tmp:
        # the script runs in a scratch folder that links to everything beside it: it reads its files where
        # they are, and what it writes (checkpoints, runs/) does not land next to it
        work = Path(tmp) / "script"
        work.mkdir()
        for entry in script.parent.iterdir():
            (work / entry.name).symlink_to(entry)
        original = _run(script, list(script_args), work, steps, seed, timeout)
        new = _run_project(project, Path(tmp) / "project", steps, precision, seed, timeout)
    return _table(original, new, steps)


def _run_project(project: Path, root: Path, steps: int, precision: str, seed: int | None, timeout: int) -> list[float]:
    argv = ["fit", f"--trainer.default_root_dir={root}", "--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.logger=false",
            "--trainer.enable_checkpointing=false", "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", "--trainer.num_sanity_val_steps=0"]
    if precision == "16-mixed":
        argv.append("--trainer.precision=32-true")  # the script's float16 autocast is off on a CPU too
    if seed is not None:
        argv.append(f"--seed_everything={seed}")
    return _run(project / "train.py", argv, project, steps, seed, timeout)


def _table(original: list[float], new: list[float], steps: int) -> Comparison:
    rows = ["  step  script              project             difference"]
    match = len(original) == len(new) and len(original) > 0
    for i in range(max(len(original), len(new))):
        a = original[i] if i < len(original) else None
        b = new[i] if i < len(new) else None
        diff = abs(a - b) if a is not None and b is not None else None
        if diff is None or diff > _TOLERANCE * max(1.0, abs(a)):
            match = False
        rows.append(f"  {i + 1:>4}  {_fmt(a):<18}  {_fmt(b):<18}  {'' if diff is None else f'{diff:.3g}'}")
    if match:
        verdict = f"MATCH: the first {len(original)} losses of the script and of the project agree to {_TOLERANCE:g}."
    elif not original or not new:
        verdict = f"DIFFER: no losses recorded from the {'script' if not original else 'project'}."
    elif len(original) != len(new):
        verdict = f"DIFFER: the script recorded {len(original)} losses and the project {len(new)}."
    else:
        first = next(i for i in range(len(original)) if abs(original[i] - new[i]) > _TOLERANCE * max(1.0, abs(original[i])))
        verdict = (f"DIFFER: the losses part at step {first + 1} (random numbers drawn in another order, another "
                   "data order, or a step that is not the same computation); see REFACTOR.md.")
    text = f"Loss at each backward() call, on the CPU, {steps} steps:\n" + "\n".join(rows) + "\n" + verdict
    return Comparison(original, new, steps, match, text)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"
