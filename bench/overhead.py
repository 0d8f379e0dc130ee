"""Trainer overhead: `runtime.Trainer` against a hand-written PyTorch loop on the same work.

The work: an MLP 32-64-10, batch 32, 2,000 SGD steps (lr 0.1) on one CPU thread, data made in
memory from a fixed seed (64,000 samples, so the 2,000 steps are exactly one epoch and no epoch
boundary falls inside the run). Three ways to run it:

  hand  the loop below, written out in PyTorch
  A     runtime.Trainer(max_steps=2000) with logger, progress bar, checkpointing and model
        summary off; the module calls self.log("train_loss", loss) every step
  B     the same with the Trainer's defaults (TensorBoard logger, progress bar, checkpointing,
        model summary), default_root_dir in a temporary folder

Each run is a fresh subprocess (no warm caches or leftover state shared between runs), and the
runs are alternated (hand, A, B, hand, A, B, ...) so that drift in the machine's speed hits all
three alike. What is timed is the training steps only: the hand loop itself, and for the runtime
the span from on_train_start to on_train_end (a callback; the callback runs first, so the span
includes the epoch-end work of the other callbacks, such as config B's checkpoint). Setup, the
import of torch and the Trainer's construction are not timed. A second, steady-state figure starts
the clock at step --warmup (default 100; in the hand loop's body and at the top of training_step,
both just after the batch is fetched), leaving out one-time costs inside the loop such as the
TensorBoard import at the logger's first write (step 50).

The hand loop runs forward, zero_grad, backward, step: the order of Lightning's automatic
optimization (training_step, then optimizer_zero_grad, backward and optimizer.step), so the final
loss of config A must equal the hand loop's bit for bit.

    python bench/overhead.py                 # 5 rounds of 2,000 steps
    python bench/overhead.py --rounds 9 --steps 500

Targets (issue 2): runtime/hand <= 1.10 for A, <= 1.20 for B.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIGS = ("hand", "A", "B")
LABELS = {
    "hand": "hand-written loop",
    "A": "runtime, all off",
    "B": "runtime, defaults",
}
TARGETS = {"A": 1.10, "B": 1.20}
SEED = 1234
BATCH = 32
# Set in a worker run with --count-calls: a cProfile.Profile that runs over the steady span and
# counts Python and builtin function calls, a figure the machine's load cannot disturb.
_CALLS = None


def _window_start():
    if _CALLS is not None:
        _CALLS.enable()


def _window_end():
    if _CALLS is not None:
        _CALLS.disable()


def _setup(steps: int):
    """Model, optimizer-free data loader and seed, identical for every config."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    n = steps * BATCH
    x = torch.randn(n, 32, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=False)
    torch.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
    return model, loader


def _fingerprint(model) -> str:
    """A hash of the exact parameter bytes, to compare final weights across processes."""
    import hashlib

    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _run_hand(steps: int, warmup: int) -> dict:
    import torch
    import torch.nn.functional as F

    model, loader = _setup(steps)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    t_warm = c_warm = None
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if i == warmup:
            t_warm, c_warm = time.perf_counter(), time.process_time()
            _window_start()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    t1, c1 = time.perf_counter(), time.process_time()
    _window_end()
    return {
        "seconds": t1 - t0,
        "steady_seconds": t1 - t_warm,
        "steady_cpu_seconds": c1 - c_warm,
        "steps": len(loader),
        "loss": loss.item(),
        "weights": _fingerprint(model),
        "threads": torch.get_num_threads(),
    }


def _run_runtime(config: str, steps: int, warmup: int) -> dict:
    import torch
    import torch.nn.functional as F

    import runtime as pl

    model, loader = _setup(steps)

    class Module(pl.LightningModule):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.last_loss = None
            self.t_warm = self.c_warm = None

        def training_step(self, batch, batch_idx):
            if batch_idx == warmup:  # the same point as in the hand loop: batch fetched, step not begun
                self.t_warm, self.c_warm = time.perf_counter(), time.process_time()
                _window_start()
            x, y = batch
            loss = F.cross_entropy(self.net(x), y)
            self.log("train_loss", loss)
            self.last_loss = loss
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    class StepTimer(pl.Callback):
        def __init__(self):
            self.start = self.end = self.cpu_end = None
            self.threads = None

        def on_train_start(self, trainer, pl_module):
            self.start = time.perf_counter()

        def on_train_end(self, trainer, pl_module):
            self.end, self.cpu_end = time.perf_counter(), time.process_time()
            _window_end()
            self.threads = torch.get_num_threads()

    timer = StepTimer()
    module = Module(model)
    with tempfile.TemporaryDirectory(prefix="kindling-bench-") as root:
        common = dict(max_steps=steps, accelerator="cpu", devices=1, callbacks=[timer])
        if config == "A":
            trainer = pl.Trainer(
                logger=False,
                enable_progress_bar=False,
                enable_checkpointing=False,
                enable_model_summary=False,
                default_root_dir=root,
                **common,
            )
        else:
            trainer = pl.Trainer(default_root_dir=root, **common)
        t0 = time.perf_counter()
        trainer.fit(module, loader)
        fit_seconds = time.perf_counter() - t0
    return {
        "seconds": timer.end - timer.start,
        "steady_seconds": timer.end - module.t_warm,
        "steady_cpu_seconds": timer.cpu_end - module.c_warm,
        "fit_seconds": fit_seconds,
        "steps": int(trainer.global_step),
        "loss": module.last_loss.item(),
        "weights": _fingerprint(model),
        "threads": timer.threads,
    }


def _worker(config: str, steps: int, warmup: int, out: str, count_calls: bool = False) -> None:
    global _CALLS
    if count_calls:
        import cProfile

        _CALLS = cProfile.Profile()
    result = _run_hand(steps, warmup) if config == "hand" else _run_runtime(config, steps, warmup)
    if count_calls:
        import pstats

        result["steady_calls"] = pstats.Stats(_CALLS).total_calls
    Path(out).write_text(json.dumps(result))


def _spawn(config: str, steps: int, warmup: int, count_calls: bool = False) -> dict:
    """One run in a fresh interpreter; its output is kept only to show on failure."""
    with tempfile.TemporaryDirectory(prefix="kindling-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--worker", config, "--steps", str(steps)]
        cmd += ["--warmup", str(warmup), "--out", str(out)] + (["--count-calls"] if count_calls else [])
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"bench: the {config} run failed (exit code {proc.returncode})")
        return json.loads(out.read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each config (default 5)")
    parser.add_argument("--steps", type=int, default=2000, help="training steps per run (default 2000)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=100,
        help="steps left out of the steady-state figure (default 100: past one-time costs such as "
        "the logger's first write at step 50)",
    )
    parser.add_argument("--configs", default="hand,A,B", help="comma-separated subset of hand,A,B")
    parser.add_argument(
        "--no-calls",
        action="store_true",
        help="skip the extra run of each config that counts function calls per step",
    )
    parser.add_argument("--json", dest="json_out", help="also write the raw results to this file")
    parser.add_argument("--count-calls", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        _worker(args.worker, args.steps, args.warmup, args.out, args.count_calls)
        return 0

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = sorted(set(configs) - set(CONFIGS))
    if unknown or "hand" not in configs:
        parser.error(f"--configs must include 'hand' and name only hand, A, B; got {args.configs!r}")
    if not 0 <= args.warmup < args.steps:
        parser.error(f"--warmup must be at least 0 and below --steps ({args.steps}); got {args.warmup}")

    results: dict[str, list[dict]] = {c: [] for c in configs}
    for r in range(args.rounds):
        for c in configs:
            res = _spawn(c, args.steps, args.warmup)
            results[c].append(res)
            print(
                f"round {r + 1}/{args.rounds} {c:>4}: {res['seconds'] / res['steps'] * 1e6:8.1f} us/step, "
                f"steady {res['steady_seconds'] / (res['steps'] - args.warmup) * 1e6:8.1f} us/step",
                file=sys.stderr,
                flush=True,
            )

    calls = {}
    if not args.no_calls:
        for c in configs:
            res = _spawn(c, args.steps, args.warmup, count_calls=True)
            calls[c] = res["steady_calls"] / (res["steps"] - args.warmup)

    def per_step(c, steady=False, key="steady_seconds"):
        if steady:
            return [res[key] / (res["steps"] - args.warmup) for res in results[c]]
        return [res["seconds"] / res["steps"] for res in results[c]]

    hand = {steady: statistics.median(per_step("hand", steady)) for steady in (False, True)}
    hand_cpu = statistics.median(per_step("hand", True, "steady_cpu_seconds"))
    print()
    print(
        f"{args.rounds} rounds x {args.steps} steps, MLP 32-64-10, batch {BATCH}, SGD, 1 thread, "
        f"torch {_torch_version()}, python {sys.version.split()[0]}"
    )
    print("us/step, wall clock: medians over the rounds (and the fastest round); ratio = median/hand median.")
    print(
        f"'all steps' spans on_train_start..on_train_end; 'steady' leaves out the first {args.warmup} steps;"
    )
    print("'cpu' is the steady span in process CPU time, which time spent descheduled on a busy machine")
    print("does not inflate. The target verdicts are on the wall-clock ratios (all steps / steady).")
    print(
        f"{'config':<28} {'all steps':>9} {'(min)':>7} {'ratio':>6}   "
        f"{'steady':>7} {'(min)':>7} {'ratio':>6}   {'cpu':>7} {'ratio':>6}   target"
    )
    for c in configs:
        cells = []
        verdicts = []
        for steady in (False, True):
            times = per_step(c, steady)
            med = statistics.median(times)
            ratio = med / hand[steady]
            cells.append(f"{med * 1e6:{9 if not steady else 7}.1f} {min(times) * 1e6:7.1f} {ratio:6.3f}")
            if c in TARGETS:
                verdicts.append("ok" if ratio <= TARGETS[c] else "MISSED")
        cpu = statistics.median(per_step(c, True, "steady_cpu_seconds"))
        cells.append(f"{cpu * 1e6:7.1f} {cpu / hand_cpu:6.3f}")
        target = f"<={TARGETS[c]:.2f} ({' / '.join(verdicts)})" if c in TARGETS else ""
        print(f"{LABELS[c]:<28} {cells[0]}   {cells[1]}   {cells[2]}   {target}")
    paired = []
    for c in configs:
        if c != "hand":
            pairs = zip(per_step(c, True), per_step("hand", True))
            paired.append(f"{c} {statistics.median(x / h for x, h in pairs):.3f}")
    print(f"paired ratio (median over rounds of runtime/hand in the same round, steady): {', '.join(paired)}")
    if calls:
        extra = ", ".join(f"{c} {calls[c] - calls['hand']:+.0f}" for c in configs if c != "hand")
        print(
            f"function calls per steady step (cProfile, deterministic): hand {calls['hand']:.0f}; "
            f"runtime adds: {extra}"
        )
    for c in configs:
        if c != "hand":
            fit = statistics.median(res["fit_seconds"] for res in results[c])
            print(f"  {c}: whole trainer.fit() median {fit:.3f} s (setup and teardown included)")

    problems = []
    for c in configs:
        steps = {res["steps"] for res in results[c]}
        threads = {res["threads"] for res in results[c]}
        if steps != {args.steps}:
            problems.append(f"{c} ran {sorted(steps)} steps, expected {args.steps}")
        if threads != {1}:
            problems.append(f"{c} trained with {sorted(threads)} threads, expected 1")
    for p in problems:
        print(f"warning: {p}")

    hand = results["hand"][0]
    print(f"final loss  hand: {hand['loss']!r} ({float.hex(hand['loss'])})  weights {hand['weights']}")
    ok = True
    for c in configs:
        if c == "hand":
            continue
        res = results[c][0]
        same_loss = all(r["loss"] == hand["loss"] for r in results[c])
        same_weights = all(r["weights"] == hand["weights"] for r in results[c])
        ok = ok and same_loss and same_weights
        print(
            f"final loss  {c:>4}: {res['loss']!r} ({float.hex(res['loss'])})  weights {res['weights']}  "
            f"loss {'MATCH' if same_loss else 'MISMATCH'}, weights {'MATCH' if same_weights else 'MISMATCH'}"
        )

    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(
                {"rounds": args.rounds, "steps": args.steps, "results": results, "calls_per_step": calls},
                indent=1,
            )
        )
    return 0 if ok and not problems else 1


def _torch_version() -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True
    )
    return out.stdout.strip() or "?"


if __name__ == "__main__":
    sys.exit(main())
