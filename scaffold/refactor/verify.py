"""`--verify`: run the original script and the new project through the same short run on the CPU; compare their losses.

Both run in their own process under the same small tracer: ``torch.Tensor.backward`` is wrapped to record the
value it is called on. Every pass over a DataLoader is cut to ``batches`` batches (in both processes; not the
loaders with ``batch_size=None`` that wrap a list or range the script loops over itself), so each side runs all its epochs, its evaluation loops, its epoch ends and its end of training
in a few steps. The first ``steps`` losses are compared; both sides then go on to their end (the script's code after
its loop, the project's on_train_end), so a failure there fails --verify and names the side (or both). Only a run
longer than ``_LIMIT`` backward calls is stopped there (a BaseException, so a script's ``except Exception`` cannot
swallow it), on both sides alike, and the text says it ended early. CUDA is hidden from both, so a script that picks
``cuda`` when it is available runs on the CPU like the project. The project runs ``train.py fit`` with checkpoints
on, the logger, the sanity check and the progress bar off; none of those draws random numbers, so with the same seed
the data order and the initial weights are the same and the losses match exactly. Either side failing is a
VerifyError that says which side and shows the end of its error.

Both sides start alike where the script leaves things to chance: the same str-hash salt (a set of class names
iterates in the same order), torch, random and NumPy seeded when the script seeds nothing, random and NumPy seeded
with the script's seed when it seeds torch only (the project's seed_everything seeds all three). The script's
evaluation loops, which the project runs as validation, leave the random streams as they found them, as the
trainer's validation does. Nothing else is evened out: a project that draws in another order, reads other data or
computes another step still parts from the script.
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
# a run is stopped after this many backward() calls: past the compared losses both sides go on to their end (every
# epoch, validation, the script's code after training, the project's on_train_end), with each DataLoader pass cut
_LIMIT = 2000

_TRACER = r"""
import json, os, runpy, sys
import torch

K = int(os.environ["SCAFFOLD_VERIFY_STEPS"])  # the losses compared
LIMIT = max(K, int(os.environ.get("SCAFFOLD_VERIFY_LIMIT") or K))  # the backward() calls after which a run is stopped
calls = []
losses = []
passes = []


class _Stop(BaseException):
    pass


_backward = torch.Tensor.backward
_inside = []


marks = []  # DataLoader passes started when each loss was recorded: where the epochs (and evaluations) fall


def backward(self, *args, **kwargs):
    if _inside:
        # the call coming back through a torch function mode (`torch.set_default_device` installs one, and
        # Tensor.backward hands itself to the mode by name, which is this wrapper): the same backward, counted once
        return _backward(self, *args, **kwargs)
    _record(self)
    _inside.append(1)
    try:
        _backward(self, *args, **kwargs)
    finally:
        _inside.pop()
    if len(calls) >= LIMIT:
        raise _Stop()


def _record(loss):
    calls.append(1)
    if len(losses) < K:
        losses.append(float(loss.detach().double().sum()))
        marks.append(len(passes))


_autograd_backward = torch.autograd.backward


def autograd_backward(tensors, *args, **kwargs):
    if not _inside:
        _record(tensors[0] if isinstance(tensors, (list, tuple)) else tensors)
    _autograd_backward(tensors, *args, **kwargs)
    if not _inside and len(calls) >= LIMIT:
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
import weakref
_iter_init = _dl._BaseDataLoaderIter.__init__
_iter_next = _dl._BaseDataLoaderIter.__next__
SCRIPT = os.path.abspath(sys.argv[1])
# the script's evaluation loops (the lines of their `for` headers): a pass over a loader started there is the
# script's evaluation, which the trainer runs inside its own copy of the random streams; here too the streams are
# put back when such a pass ends, so what the evaluation draws (a shuffled loader's order, sampling, dropout left on)
# does not shift what training draws next, in the script as in the project
EVAL_LINES = {int(n) for n in os.environ.get("SCAFFOLD_VERIFY_EVAL_LINES", "").split(",") if n}


def _rng_states():
    states = [torch.get_rng_state(), __import__("random").getstate()]
    numpy = sys.modules.get("numpy")
    return states + [numpy.random.get_state()] if numpy is not None else states


def _put_back(states):
    torch.set_rng_state(states[0])
    __import__("random").setstate(states[1])
    if len(states) > 2:
        sys.modules["numpy"].random.set_state(states[2])


def _from_evaluation():
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == SCRIPT:
            return frame.f_lineno in EVAL_LINES
        frame = frame.f_back
    return False


def _quiet_iter_init(self, loader):
    if EVAL_LINES and _from_evaluation():
        states = _rng_states()
        self._scaffold_eval = weakref.finalize(self, _put_back, states)  # the pass ends, or the loop is left early
    with torch.random.fork_rng(devices=[]):
        _iter_init(self, loader)


def _eval_next(self):
    try:
        return _iter_next(self)
    except StopIteration:
        done = getattr(self, "_scaffold_eval", None)
        if done is not None:
            done()
        raise


_dl._BaseDataLoaderIter.__init__ = _quiet_iter_init
_dl._BaseDataLoaderIter.__next__ = _eval_next
seed = os.environ.get("SCAFFOLD_VERIFY_SEED")
others = os.environ.get("SCAFFOLD_VERIFY_SEED_OTHERS") or seed
if others:
    # a script draws from random and NumPy without seeding them (only torch.manual_seed): each run of it starts
    # them anywhere; the project's seed_everything seeds them with the script's torch seed, so the run of the
    # script compared is the one that starts them there too. A script without any seed (SCAFFOLD_VERIFY_SEED)
    # gets every generator seeded here, on both sides
    import random
    random.seed(int(others))
    try:
        import numpy
    except ImportError:
        pass
    else:
        numpy.random.seed(int(others))
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
print("MARK" + json.dumps({"losses": losses, "status": status, "passes": len(passes), "marks": marks,
                           "calls": len(calls)}), flush=True)
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


def evaluation_lines(analysis) -> tuple[int, ...]:
    """The lines of the `for` headers of the script's evaluation loops (the refactor made validation/test of them)."""
    loops = [info.loop for info in (analysis.val, analysis.test) if info is not None]
    script = analysis.script  # the script's lines, not those of its unrolled phase loop (phases.py)
    trains = script.source_line(analysis.train.loop.lineno) if analysis.train is not None else None
    out = []
    for loop in loops:
        lines = {script.source_line(n) for n in range(loop.lineno, loop.iter.end_lineno + 1)}
        if trains not in lines:  # else one loop of the script both trains and evaluates (`for x, y in loaders[phase]:`)
            out += sorted(lines)
    return tuple(out)


def _run(side: str, path: Path, argv: list[str], cwd: Path, steps: int, batches: int | None, seed: int | None,
         timeout: int, eval_lines: tuple[int, ...] = (), script_seed: int | None = None) -> dict:
    """The side's run: its losses and how it ended, or ``{"failed": what to tell}`` when it failed or timed out."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the runtime the project imports, wherever scaffold runs from
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), root, env.get("PYTHONPATH", "")])
    env["SCAFFOLD_VERIFY_STEPS"] = str(steps)
    env["SCAFFOLD_VERIFY_LIMIT"] = str(max(steps, _LIMIT))
    env["SCAFFOLD_VERIFY_BATCHES"] = str(batches or 0)
    env["CUDA_VISIBLE_DEVICES"] = ""
    # str hashes are salted per process: a set of strings (the class names of a data set) iterates in another order
    # in each run, so one run's label numbering is not the next one's; both sides get the same salt
    env["PYTHONHASHSEED"] = "0"
    env.pop("PL_GLOBAL_SEED", None)
    env["SCAFFOLD_VERIFY_EVAL_LINES"] = ",".join(map(str, eval_lines))
    if seed is not None:
        env["SCAFFOLD_VERIFY_SEED"] = str(seed)
    if script_seed is not None:
        env["SCAFFOLD_VERIFY_SEED_OTHERS"] = str(script_seed)
    try:
        proc = subprocess.run([sys.executable, "-c", _TRACER, str(path), *argv], cwd=str(cwd), env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"the {side} ({path.name}) did not finish its short run within {timeout} s"}
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            result = json.loads(line[len(_MARK):])
    if result is not None and proc.returncode == 0:
        return result
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    where = f" after {result['calls']} backward() calls" if result else ""
    return {"failed": f"the {side} failed{where} ({path.name}, exit code {proc.returncode}):\n{tail}"}


def compare(script: Path, project: Path, script_args: list[str], steps: int = 40, precision: str = "32-true",
            seed: int | None = None, timeout: int = 600, batches: int | None = 2,
            eval_lines: tuple[int, ...] = (), script_seed: int | None = None) -> Comparison:
    """Run both through the same short run (every DataLoader pass cut to ``batches``, at most ``steps`` backward
    calls) and compare the loss values (to 1e-6). ``eval_lines``: the lines of the script's evaluation loops (their
    `for` headers), whose passes leave the random streams as they found them, as the trainer's validation does.
    ``seed``: the script seeds nothing, every generator starts from this seed on both sides. ``script_seed``: the
    script's own seed, which the project gives seed_everything: Python's and NumPy's generators, which the script
    may leave unseeded, start from it on both sides.
    Raises VerifyError when either side fails."""
    import tempfile

    script = Path(script).resolve()
    project = Path(project).resolve()
    with tempfile.TemporaryDirectory(prefix="scaffold-verify-") as tmp:
        work = _scratch(script.parent, Path(tmp) / "script")
        original = _run("script", script, list(script_args), work, steps, batches, seed, timeout, tuple(eval_lines),
                        script_seed)
        new = _run_project(project, Path(tmp) / "project", steps, batches, precision, seed, timeout, script_seed)
    failed = [side["failed"] for side in (original, new) if "failed" in side]
    if failed:  # the script and the project both run to their end: say which failed, or that both did
        which = ("both the script and the project failed" if len(failed) == 2
                 else "the script failed (the project ran to its end)" if "failed" in original
                 else "the project failed (the script ran to its end)")
        raise VerifyError(f"--verify: {which}.\n" + "\n".join(f"- {text}" for text in failed))
    comparison = _table(original["losses"], new["losses"], steps, original.get("marks") or [])
    comparison.script_status, comparison.project_status = original["status"], new["status"]
    ends = {"finished": "ran to its end", "stopped": f"was stopped at {max(steps, _LIMIT)} backward() calls, before its end"}
    comparison.text += (f"\nThe script {ends.get(original['status'], original['status'])} and the project "
                        f"{ends.get(new['status'], new['status'])}"
                        + (f", every pass over a DataLoader cut to {batches} batches." if batches else "."))
    if seed is not None:
        comparison.text += f"\nThe script sets no seed: both sides started torch, random and NumPy from {seed}."
    elif script_seed is not None:
        comparison.text += (f"\nBoth sides started random and NumPy from {script_seed}, the script's seed, as the project's "
                            "seed_everything does (the script may leave them unseeded).")
    if eval_lines:
        comparison.text += (f"\nThe script's evaluation (the loop at line {eval_lines[0]}) left the random streams as it "
                            "found them, as the trainer's validation does.")
    if original["status"] != new["status"]:
        comparison.match = False
        comparison.text += "\nDIFFER: one side ended and the other did not (another number of epochs or batches?)."
    return comparison


def _scratch(folder: Path, root: Path, levels: int = 2) -> Path:
    """The folder the script runs in: a scratch copy of its folder, and of the ``levels - 1`` folders above it, made
    of links to what they hold. The script reads its files where they are, `../data` included, and what it writes
    (checkpoints, runs/, ../results) does not land in the user's folders."""
    chain = [folder] + [p for p in list(folder.parents)[:levels - 1] if p.parent != p]  # never the file system's root
    here = root
    for i, real in enumerate(reversed(chain)):  # the outermost first
        inner = chain[len(chain) - 2 - i] if i < len(chain) - 1 else None  # the next one down, a real folder here
        here.mkdir(parents=True, exist_ok=True)
        for entry in real.iterdir():
            if inner is None or entry.name != inner.name:
                (here / entry.name).symlink_to(entry)
        if inner is not None:
            here = here / inner.name
    return here


def _run_project(project: Path, root: Path, steps: int, batches: int | None, precision: str, seed: int | None,
                 timeout: int, script_seed: int | None = None) -> dict:
    argv = ["fit", f"--trainer.default_root_dir={root}", "--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.logger=false",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.num_sanity_val_steps=0"]
    if precision == "16-mixed":
        argv.append("--trainer.precision=32-true")  # the script's float16 autocast is off on a CPU too
    if seed is not None:
        # a script without a seed of its own is seeded by the tracer at start, in both processes; the project must
        # not seed again after its imports (values the script draws at import time would come from another state)
        argv.append("--seed_everything=false")
    return _run("project", project / "train.py", argv, project, steps, batches, seed, timeout, script_seed=script_seed)


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
