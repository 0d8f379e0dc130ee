"""`--verify`: run the original script and the new project through the same short run on the CPU; compare their losses.

Both run in their own process under the same small tracer: ``torch.Tensor.backward`` is wrapped to record the
value it is called on. Every pass over a DataLoader is cut to ``batches`` batches (in both processes; not the
loaders with ``batch_size=None`` that wrap a list or range the script loops over itself), so each side runs all its epochs, its evaluation loops, its epoch ends and its end of training
in a few steps; a run longer than ``steps`` backward calls is stopped there (a BaseException, so a script's
``except Exception`` cannot swallow it), on both sides alike. CUDA is hidden from both, so a script that picks
``cuda`` when it is available runs on the CPU like the project. The project runs ``train.py fit`` with checkpoints
on, the logger, the sanity check and the progress bar off; none of those draws random numbers, so with the same seed
the data order and the initial weights are the same and the losses match exactly. Either side failing is a
VerifyError that says which side and shows the end of its error.
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
passes = []


class _Stop(BaseException):
    pass


_backward = torch.Tensor.backward
_inside = []


marks = []  # DataLoader passes started when each loss was recorded: where the epochs (and evaluations) fall


def backward(self, *args, **kwargs):
    losses.append(float(self.detach().double().sum()))
    marks.append(len(passes))
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
        marks.append(len(passes))
    _autograd_backward(tensors, *args, **kwargs)
    if not _inside and len(losses) >= K:
        raise _Stop()


B = int(os.environ.get("SCAFFOLD_VERIFY_BATCHES") or 0)
if B:
    import torch.utils.data.dataloader as _dlb
    _next = _dlb._BaseDataLoaderIter.__next__

    def _cut_next(self):
        if not self._auto_collation:
            # batch_size=None: a list/range/generator the script loops over itself, wrapped by the project's
            # `_as_loader`: the script's side cannot be cut, so neither is the project's
            return _next(self)
        n = getattr(self, "_scaffold_seen", 0)
        if n == 0:
            passes.append(1)
        if n >= B:
            raise StopIteration
        self._scaffold_seen = n + 1
        return _next(self)

    _dlb._BaseDataLoaderIter.__next__ = _cut_next
    _len = _dlb.DataLoader.__len__

    def _cut_len(self):  # the cut passes are the epoch length the trainer plans with (validation, epoch end)
        n = _len(self)
        return min(n, B) if self._auto_collation else n

    _dlb.DataLoader.__len__ = _cut_len
torch.Tensor.backward = backward
torch.autograd.backward = autograd_backward
torch.cuda.is_available = lambda: False
if hasattr(torch.backends, "mps"):
    torch.backends.mps.is_available = lambda: False
# a DataLoader draws a base seed for its workers each time it is iterated, shuffled or not; it is not part of the
# computation (no workers here), and the trainer runs validation without touching the training random streams,
# so here no iteration draws it: the script's evaluation loaders and the project's do not shift the data order
import torch.utils.data.dataloader as _dl
_iter_init = _dl._BaseDataLoaderIter.__init__


def _quiet_iter_init(self, loader):
    with torch.random.fork_rng(devices=[]):
        _iter_init(self, loader)


_dl._BaseDataLoaderIter.__init__ = _quiet_iter_init
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
if status in ("exit 0", "exit None"):
    status = "finished"
print("MARK" + json.dumps({"losses": losses[:K], "status": status, "passes": len(passes), "marks": marks[:K]}), flush=True)
if status.startswith("exit"):
    sys.exit(1)
""".replace("MARK", _MARK)


@dataclass
class Comparison:
    script_losses: list[float]
    project_losses: list[float]
    steps: int
    match: bool
    text: str
    script_status: str = ""
    project_status: str = ""


def _run(side: str, path: Path, argv: list[str], cwd: Path, steps: int, batches: int | None, seed: int | None,
         timeout: int) -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the runtime the project imports, wherever scaffold runs from
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), root, env.get("PYTHONPATH", "")])
    env["SCAFFOLD_VERIFY_STEPS"] = str(steps)
    env["SCAFFOLD_VERIFY_BATCHES"] = str(batches or 0)
    env["CUDA_VISIBLE_DEVICES"] = ""
    env.pop("PL_GLOBAL_SEED", None)
    if seed is not None:
        env["SCAFFOLD_VERIFY_SEED"] = str(seed)
    try:
        proc = subprocess.run([sys.executable, "-c", _TRACER, str(path), *argv], cwd=str(cwd), env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise VerifyError(f"--verify: the {side} ({path.name}) did not finish its short run within {timeout} s") from None
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            result = json.loads(line[len(_MARK):])
    if result is not None and proc.returncode == 0:
        return result
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    where = f" after {len(result['losses'])} backward() calls" if result else ""
    raise VerifyError(f"--verify: the {side} failed{where} ({path.name}, exit code {proc.returncode}); the other side was "
                      f"{'not run' if side == 'script' else 'fine'}:\n{tail}")


def compare(script: Path, project: Path, script_args: list[str], steps: int = 40, precision: str = "32-true",
            seed: int | None = None, timeout: int = 600, batches: int | None = 2) -> Comparison:
    """Run both through the same short run (every DataLoader pass cut to ``batches``, at most ``steps`` backward
    calls) and compare the loss values (to 1e-6). Raises VerifyError when either side fails."""
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
        original = _run("script", script, list(script_args), work, steps, batches, seed, timeout)
        new = _run_project(project, Path(tmp) / "project", steps, batches, precision, seed, timeout)
    comparison = _table(original["losses"], new["losses"], steps, original.get("marks") or [])
    comparison.script_status, comparison.project_status = original["status"], new["status"]
    ends = {"finished": "ran to its end", "stopped": f"was stopped at {steps} backward() calls"}
    comparison.text += (f"\nThe script {ends.get(original['status'], original['status'])} and the project "
                        f"{ends.get(new['status'], new['status'])}"
                        + (f", every pass over a DataLoader cut to {batches} batches." if batches else "."))
    if original["status"] != new["status"]:
        comparison.match = False
        comparison.text += "\nDIFFER: one side ended and the other did not (another number of epochs or batches?)."
    return comparison


def _run_project(project: Path, root: Path, steps: int, batches: int | None, precision: str, seed: int | None,
                 timeout: int) -> dict:
    argv = ["fit", f"--trainer.default_root_dir={root}", "--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.logger=false",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.num_sanity_val_steps=0"]
    if precision == "16-mixed":
        argv.append("--trainer.precision=32-true")  # the script's float16 autocast is off on a CPU too
    if seed is not None:
        # a script without a seed of its own is seeded by the tracer at start, in both processes; the project must
        # not seed again after its imports (values the script draws at import time would come from another state)
        argv.append("--seed_everything=false")
    return _run("project", project / "train.py", argv, project, steps, batches, seed, timeout)


def _table(original: list[float], new: list[float], steps: int, marks: list[int] = ()) -> Comparison:
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
        verdict = f"MATCH: the {len(original)} losses of the script and of the project agree to {_TOLERANCE:g}."
    elif not original or not new:
        verdict = f"DIFFER: no losses recorded from the {'script' if not original else 'project'}."
    elif len(original) != len(new):
        verdict = f"DIFFER: the script recorded {len(original)} losses and the project {len(new)}."
    else:
        first = next(i for i in range(len(original)) if abs(original[i] - new[i]) > _TOLERANCE * max(1.0, abs(original[i])))
        if 0 < first < len(marks) and marks[first] - marks[first - 1] > 1:
            verdict = (f"DIFFER: the losses agree up to step {first} and part at step {first + 1}, the first step after the "
                       "script evaluated: its evaluation draws random numbers (a shuffled evaluation loader, sampling), which "
                       "shifts its training stream; the trainer's validation leaves that stream alone, so the data order "
                       "or noise after it differs (every step before it matched).")
        else:
            verdict = (f"DIFFER: the losses part at step {first + 1} (random numbers drawn in another order, another "
                       "data order, or a step that is not the same computation); see REFACTOR.md.")
    text = f"Loss at each backward() call, on the CPU (at most {steps}):\n" + "\n".join(rows) + "\n" + verdict
    return Comparison(original, new, steps, match, text)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"
