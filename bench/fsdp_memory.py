"""Memory per process: ``Trainer(strategy="fsdp")`` against ``strategy="ddp"`` on the same model.

The work: an MLP 1024-2048x8-10 (9 Linear layers, 8 hidden of width 2048, ReLU between them,
31.5M parameters, 120 MiB in fp32), Adam (lr 1e-3), STEPS steps (default 5) of a tiny batch (4 per
process, global 8), 2 processes, gloo on CPU, one thread per process, data made in memory from a
fixed seed. Configs:

  ddp        Trainer(strategy="ddp", devices=2, accelerator="cpu")
  fsdp       Trainer(strategy=FSDPStrategy(auto_wrap_policy={nn.Linear}), ...): each Linear its own
             sharding unit, so only one layer's full parameters exist at a time
  fsdp-root  Trainer(strategy="fsdp", ...): the root unit only; the whole model is gathered for each
             forward and backward (not run by default: --configs ddp,fsdp,fsdp-root)

Each run starts a fresh rank 0 (this file with --worker); the Trainer starts rank 1 by re-running
the same command. Runs alternate (ddp, fsdp, ddp, fsdp, ...). At on_train_end (after the last
optimizer step, before teardown, gradients still held) each rank writes into a temporary folder:

  state   bytes in parameters + gradients + optimizer state, over this process's LOCAL tensors
          (DTensor -> .to_local()), each storage counted once at its full size (so FSDP's padding
          and flat buffers count; views and shared storages do not count twice)
  peak    peak RSS of the process (ru_maxrss), everything included: interpreter, torch, gloo,
          DDP's gradient buckets (gradient_as_bucket_view=False: a second copy of the gradients,
          not in state), the full model as built before sharding, transients
  +base   peak RSS minus the RSS right after the imports (torch, torch.distributed.fsdp and runtime,
          in both configs), before the model is built: the memory the model and training added

The figures are medians over the rounds; the ratios fsdp/ddp are of those medians, per rank.

RSS depends on the allocator as much as on the tensors. With glibc's defaults, a freed block over
128 KiB raises malloc's mmap threshold to its size (up to 32 MiB), so the next blocks of that size
come from the heap and stay resident after they are freed. FSDP frees and re-allocates a layer's
gathered parameters and full gradients in every step, and under the defaults its RSS climbs step
after step (on this model, above DDP's). The main rounds therefore run both ranks with
MALLOC_MMAP_THRESHOLD_=131072 (the initial value, held fixed): every tensor-sized block is mmap'd
and unmapped when freed, so RSS follows the live tensors. --glibc-rounds (default 1) adds rounds
with glibc's defaults, reported in a table of their own: the RSS a plain run gets.

Both configs must do the same work: the final loss of each rank and a checksum of the final weights
(sum of all parameters, over the shards under FSDP) must agree between configs to float tolerance;
the script prints MATCH or MISMATCH and exits 1 on a mismatch.

    python bench/fsdp_memory.py                     # 3 rounds + 1 with glibc's defaults, about 2.5 minutes
    python bench/fsdp_memory.py --rounds 2 --glibc-rounds 0 --configs ddp,fsdp,fsdp-root --json out.json
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
CONFIGS = ("ddp", "fsdp", "fsdp-root")
LABELS = {"ddp": 'strategy="ddp"', "fsdp": "FSDPStrategy(auto_wrap_policy={nn.Linear})", "fsdp-root": 'strategy="fsdp" (root unit only)'}
IN, HIDDEN, LAYERS, OUT = 1024, 2048, 8, 10
PER_RANK = 4
RTOL, ATOL = 1e-4, 1e-6  # final loss
SUM_ATOL = 1e-2  # sum of 31.5M weights of ~0.01 each; one Adam step (lr 1e-3) more or less moves it by far more
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, held fixed
# variables of an outer distributed launch would make the runtime think its ranks were started for it
_DIST_VARS = ("LOCAL_RANK", "RANK", "WORLD_SIZE", "GROUP_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT",
              "TORCHELASTIC_RUN_ID", "SLURM_NTASKS", "SLURM_JOB_ID")


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker() -> None:
    import resource

    import torch
    import torch.distributed as dist
    import torch.distributed.fsdp  # noqa: F401  (loaded in both configs, so their baselines match)
    from torch import nn
    from torch.distributed.tensor import DTensor
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, TensorDataset

    sys.path.insert(0, str(REPO))
    import runtime as pl
    from runtime.strategies.fsdp import FSDPStrategy

    torch.set_num_threads(1)
    base_rss = _rss_kib()
    config, steps, out_dir = os.environ["BENCH_CONFIG"], int(os.environ["BENCH_STEPS"]), os.environ["BENCH_OUT"]

    g = torch.Generator().manual_seed(0)
    n = steps * PER_RANK * 2
    data = TensorDataset(torch.randn(n, IN, generator=g), torch.randint(0, OUT, (n,), generator=g))

    class MLP(pl.LightningModule):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)  # every rank builds the same weights (FSDP shards them without a broadcast)
            dims = [IN] + [HIDDEN] * LAYERS
            layers: list[nn.Module] = []
            for a, b in zip(dims, dims[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            self.net = nn.Sequential(*layers, nn.Linear(HIDDEN, OUT))
            self.last_loss = None

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = F.cross_entropy(self.net(x), y)
            self.last_loss = loss.detach()
            return loss

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    def local(t):
        return t.to_local() if isinstance(t, DTensor) else t

    class Measure(pl.Callback):
        def on_train_end(self, trainer, module):
            seen: set[int] = set()
            sizes = {"params": 0, "grads": 0, "optim": 0}

            def add(kind, t):
                if not isinstance(t, torch.Tensor):
                    return
                storage = local(t).untyped_storage()
                if storage.nbytes() and storage.data_ptr() not in seen:
                    seen.add(storage.data_ptr())
                    sizes[kind] += storage.nbytes()

            opt = trainer.optimizers[0]
            params = list(module.parameters()) + [p for group in opt.param_groups for p in group["params"]]
            for p in params:
                add("params", p)
            for p in params:
                add("grads", p.grad)
            for values in opt.state.values():
                for v in values.values():
                    add("optim", v)
            self.peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.end_kib = _rss_kib()
            self.sizes = sizes
            with torch.no_grad():
                total = torch.zeros((), dtype=torch.float64)
                sharded = torch.zeros((), dtype=torch.float64)
                for p in module.parameters():
                    s = local(p).double().sum()
                    if isinstance(p, DTensor):
                        sharded += s
                    else:
                        total += s
                if isinstance(next(module.parameters()), DTensor):
                    dist.all_reduce(sharded)
                self.checksum = float(total + sharded)
            self.numel = sum(p.numel() for p in module.parameters())  # DTensor.numel() is the global count

    if config == "ddp":
        strategy = "ddp"
    elif config == "fsdp":
        strategy = FSDPStrategy(auto_wrap_policy={nn.Linear})
    elif config == "fsdp-root":
        strategy = "fsdp"
    else:
        raise SystemExit(f"unknown config {config!r}")
    measure = Measure()
    trainer = pl.Trainer(accelerator="cpu", strategy=strategy, devices=2, max_steps=steps, logger=False,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                         callbacks=[measure])
    model = MLP()
    trainer.fit(model, DataLoader(data, batch_size=PER_RANK))
    rank = trainer.global_rank
    result = {"config": config, "rank": rank, "pid": os.getpid(), "steps": trainer.global_step,
              "numel": measure.numel, **measure.sizes, "state": sum(measure.sizes.values()),
              "base_kib": base_rss, "peak_kib": measure.peak_kib, "end_kib": measure.end_kib,
              "loss": float(model.last_loss), "loss_hex": float(model.last_loss).hex(), "checksum": measure.checksum}
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    trainer.strategy.barrier()  # both files are written before rank 0 exits


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def run(config: str, steps: int, malloc: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as out:
        env = {k: v for k, v in os.environ.items() if k not in _DIST_VARS and not k.startswith("MALLOC_")}
        env.update(BENCH_CONFIG=config, BENCH_STEPS=str(steps), BENCH_OUT=out, OMP_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        if malloc == "mmap":  # rank 1 inherits it: the Trainer starts it with rank 0's environment
            env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker"], env=env, cwd=out,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        files = [Path(out, f"rank{r}.json") for r in range(2)]
        if proc.returncode != 0 or not all(f.exists() for f in files):
            sys.exit(f"{config} run failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
        results = [json.loads(f.read_text()) for f in files]
    # rank 1 is rank 0's child and may still be closing its process group: let it go before the next run
    deadline = time.monotonic() + 30
    while _alive(results[1]["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return results


def report(runs: dict[str, list[list[dict]]], title: str) -> None:
    configs = list(runs)

    def med(c: str, rank: int, key: str) -> float:
        return statistics.median(x[rank][key] for x in runs[c])

    def added(c: str, rank: int) -> float:
        return statistics.median(x[rank]["peak_kib"] - x[rank]["base_kib"] for x in runs[c]) / 1024

    print(f"\n{title}")
    header = f"{'config':<44} {'rank':>4} {'params':>7} {'grads':>7} {'optim':>7} {'state':>7} {'base':>6} {'peak':>6} {'+base':>6}"
    print(header + "   (MiB)")
    print("-" * len(header))
    for c in configs:
        for rank in range(2):
            m = {k: med(c, rank, k) / 2**20 for k in ("params", "grads", "optim", "state")}
            print(f"{LABELS[c]:<44} {rank:>4} {m['params']:7.1f} {m['grads']:7.1f} {m['optim']:7.1f} {m['state']:7.1f} "
                  f"{med(c, rank, 'base_kib') / 1024:6.0f} {med(c, rank, 'peak_kib') / 1024:6.0f} {added(c, rank):6.0f}")
    for c in configs[1:]:
        for rank in range(2):
            print(f"{c + '/ddp':>14} rank {rank}: state {med(c, rank, 'state') / med('ddp', rank, 'state'):.3f}   "
                  f"peak RSS {med(c, rank, 'peak_kib') / med('ddp', rank, 'peak_kib'):.3f}   "
                  f"peak RSS above base {added(c, rank) / added('ddp', rank):.3f}")


def main() -> None:
    if "--worker" in sys.argv[1:]:
        worker()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds with the fixed mmap threshold")
    parser.add_argument("--glibc-rounds", type=int, default=1, help="further rounds with glibc's default malloc (0: none)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--configs", default="ddp,fsdp", help=f"comma-separated, from {','.join(CONFIGS)}; ddp first")
    parser.add_argument("--json", metavar="FILE", help="write every run's figures here")
    args = parser.parse_args()
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if configs[:1] != ["ddp"] or any(c not in CONFIGS for c in configs[1:]) or len(configs) < 2 or args.rounds < 1:
        parser.error(f"--configs: ddp first, then one or more of {CONFIGS[1:]}; --rounds >= 1")

    runs: dict[str, dict[str, list[list[dict]]]] = {m: {c: [] for c in configs} for m in ("mmap", "glibc")}
    plan = [("mmap", r) for r in range(args.rounds)] + [("glibc", r) for r in range(args.glibc_rounds)]
    for malloc, r in plan:
        for c in configs:
            t0 = time.perf_counter()
            res = run(c, args.steps, malloc)
            runs[malloc][c].append(res)
            print(f"{malloc:>5} round {r + 1} {c:>9}: " + "   ".join(
                f"rank {x['rank']} state {x['state'] / 2**20:5.1f} MiB peak {x['peak_kib'] / 1024:5.0f} MiB"
                for x in res) + f"   ({time.perf_counter() - t0:.1f} s)", flush=True)

    first = runs["mmap"]["ddp"][0][0]
    print(f"\nMLP {IN}-{HIDDEN}x{LAYERS}-{OUT}, {first['numel'] / 1e6:.1f}M parameters ({first['numel'] * 4 / 2**20:.0f} MiB fp32), "
          f"Adam, {args.steps} steps, batch {PER_RANK} per process, 2 processes, gloo on CPU")
    print("state = params + grads + optimizer state, local tensors of the process; base = RSS after the imports; "
          "peak = ru_maxrss; +base = peak - base")
    report(runs["mmap"], f"MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD} (freed tensors go back to the OS), "
                         f"medians of {args.rounds} alternated rounds:")
    if args.glibc_rounds:
        report(runs["glibc"], f"glibc's default malloc (what a plain run gets), medians of {args.glibc_rounds} round(s):")

    # equal work: every run's final loss (per rank) and weight checksum against the first ddp run
    ok = True
    every = [(c, x) for m in runs.values() for c in configs for x in m[c]]
    print()
    for rank in range(2):
        ref = runs["mmap"]["ddp"][0][rank]
        worst_loss = max(abs(x[rank]["loss"] - ref["loss"]) / abs(ref["loss"]) for _, x in every)
        worst_sum = max(abs(x[rank]["checksum"] - ref["checksum"]) for _, x in every)
        good = all(abs(x[rank]["loss"] - ref["loss"]) <= ATOL + RTOL * abs(ref["loss"])
                   and abs(x[rank]["checksum"] - ref["checksum"]) <= SUM_ATOL
                   and x[rank]["steps"] == args.steps for _, x in every)
        ok &= good
        losses = "  ".join(f"{c} {runs['mmap'][c][0][rank]['loss']:.7f}" for c in configs)
        sums = "  ".join(f"{c} {runs['mmap'][c][0][rank]['checksum']:.6f}" for c in configs)
        print(f"rank {rank} final loss: {losses}   (largest relative difference, all runs: {worst_loss:.1e})")
        print(f"rank {rank} weight sum: {sums}   (largest difference, all runs: {worst_sum:.1e})   "
              f"{'MATCH' if good else 'MISMATCH'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"steps": args.steps, "mmap_threshold": MMAP_THRESHOLD, "runs": runs}, f, indent=1)
    if not ok:
        sys.exit(1)

if __name__ == "__main__":
    main()
