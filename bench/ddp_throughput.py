"""2-process CPU DDP (gloo): runtime throughput over a hand-written DDP loop on the same work.

Both sides: an MLP 64-256-256-10, global batch 64 (32 per process), SGD, one thread per process,
DistributedSampler over the same in-memory data, STEPS steps. The hand-written side is the usual
torch.distributed loop (init_process_group, DistributedDataParallel, sampler.set_epoch); the runtime
side is ``Trainer(strategy="ddp", devices=2)``. Runs alternate, each in fresh processes; the figure is
the ratio of median throughput (samples/s, timed on rank 0 from the 20th step to the end).

    python bench/ddp_throughput.py --rounds 3 --steps 300
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKER = r'''
import json, os, sys, time
import torch, torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler
torch.set_num_threads(1)
steps = int(os.environ["STEPS"]); per_rank = 32
g = torch.Generator().manual_seed(0)
data = TensorDataset(torch.randn(steps * 64, 64, generator=g), torch.randint(0, 10, (steps * 64,), generator=g))
def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
if os.environ["SIDE"] == "hand":
    rank = int(os.environ["LOCAL_RANK"])
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['MASTER_PORT']}", rank=rank, world_size=2)
    model = nn.parallel.DistributedDataParallel(net())
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sampler = DistributedSampler(data, num_replicas=2, rank=rank, shuffle=False)
    loader = DataLoader(data, batch_size=per_rank, sampler=sampler)
    sampler.set_epoch(0)
    for i, (x, y) in enumerate(loader):
        if i == 20:
            t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
    dist.barrier(); elapsed = time.perf_counter() - t0
    if rank == 0:
        print("RESULT", json.dumps({"elapsed": elapsed, "steps": i + 1 - 20}))
    dist.destroy_process_group()
else:
    sys.path.insert(0, os.environ["REPO"])
    import runtime as pl
    class M(pl.LightningModule):
        def __init__(self):
            super().__init__(); self.net = net()
        def training_step(self, batch, batch_idx):
            x, y = batch
            return F.cross_entropy(self.net(x), y)
        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.05)
    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer, m, batch, i):
            if i == 20: self.t0 = time.perf_counter()
        def on_train_end(self, trainer, m):
            trainer.strategy.barrier(); self.elapsed = time.perf_counter() - self.t0
    clock = Clock()
    trainer = pl.Trainer(accelerator="cpu", strategy="ddp", devices=2, max_epochs=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False, callbacks=[clock])
    trainer.fit(M(), DataLoader(data, batch_size=per_rank))
    if trainer.global_rank == 0:
        print("RESULT", json.dumps({"elapsed": clock.elapsed, "steps": trainer.global_step - 20}))
'''


def run(side: str, steps: int, script: str) -> float:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SIDE": side, "STEPS": str(steps), "MASTER_PORT": str(port), "MASTER_ADDR": "127.0.0.1",
           "REPO": os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "OMP_NUM_THREADS": "1"}
    if side == "hand":
        procs = [subprocess.Popen([sys.executable, script], env={**env, "LOCAL_RANK": str(r)}, stdout=subprocess.PIPE, text=True)
                 for r in range(2)]
        outs = [p.communicate()[0] for p in procs]
    else:  # the runtime launches its second process itself
        outs = [subprocess.run([sys.executable, script], env=env, stdout=subprocess.PIPE, text=True).stdout]
    line = next(l for out in outs for l in out.splitlines() if l.startswith("RESULT"))
    res = json.loads(line.split(" ", 1)[1])
    return res["steps"] * 64 / res["elapsed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    import tempfile

    script = os.path.join(tempfile.mkdtemp(), "ddp_worker.py")
    with open(script, "w") as f:
        f.write(WORKER)
    results: dict[str, list[float]] = {"hand": [], "runtime": []}
    for r in range(args.rounds):
        for side in results:
            results[side].append(run(side, args.steps, script))
            print(f"round {r + 1} {side:>7}: {results[side][-1]:9.0f} samples/s", flush=True)
    hand, rt = statistics.median(results["hand"]), statistics.median(results["runtime"])
    print(f"\n2 processes, gloo, global batch 64, {args.steps} steps, {args.rounds} alternated rounds")
    print(f"hand-written DDP: {hand:9.0f} samples/s   runtime: {rt:9.0f} samples/s   ratio {rt / hand:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
