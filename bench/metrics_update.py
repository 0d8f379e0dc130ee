"""Cost of ``update`` for Accuracy and F1Score (multiclass, 10 classes, batch 256), against torchmetrics.

    python bench/metrics_update.py                # CPU, one thread
    python bench/metrics_update.py --device cuda  # also checks that update makes no host-device sync

Each configuration is timed in rounds that alternate runtime / torchmetrics (when installed); the table
shows the median microseconds per ``update`` and the ratio runtime / torchmetrics. Inputs are logits
(N, 10) and labels, made once, outside the timed loop. On CUDA the timed loop is closed by a
synchronize, and a separate pass runs ``update`` under ``torch.cuda.set_sync_debug_mode("error")``,
which raises on any synchronisation: the check that ``update`` never waits on the device.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import runtime.metrics as rm  # noqa: E402

try:
    import torchmetrics as tm
except ImportError:
    tm = None

CLASSES, BATCH = 10, 256
CONFIGS = {
    "Accuracy(micro)": dict(cls="Accuracy", average="micro"),
    "F1Score(macro)": dict(cls="F1Score", average="macro"),
}


def make(lib, cls: str, average: str):
    return getattr(lib, cls)(task="multiclass", num_classes=CLASSES, average=average)


def time_updates(metric, preds, target, steps: int, device: torch.device) -> float:
    for _ in range(20):  # warm-up
        metric.update(preds, target)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        metric.update(preds, target)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps * 1e6


def check_no_sync(device: torch.device, preds, target) -> list[str]:
    failures = []
    for name, cfg in CONFIGS.items():
        metric = make(rm, cfg["cls"], cfg["average"]).to(device)
        metric.update(preds, target)  # first call outside the check (lazy init)
        torch.cuda.synchronize()
        try:
            torch.cuda.set_sync_debug_mode("error")
            for _ in range(3):
                metric.update(preds, target)
        except RuntimeError as err:
            failures.append(f"{name}: {err}")
        finally:
            torch.cuda.set_sync_debug_mode("default")
        torch.testing.assert_close(
            metric.compute().cpu(), make(rm, cfg["cls"], cfg["average"])(preds.cpu(), target.cpu())
        )
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    preds = torch.randn(BATCH, CLASSES, generator=g).to(device)
    target = torch.randint(CLASSES, (BATCH,), generator=g).to(device)
    libs = {"runtime": rm} if tm is None else {"runtime": rm, "torchmetrics": tm}
    print(
        f"update() cost, multiclass, {CLASSES} classes, batch {BATCH}, device {device}, {args.threads} thread(s), "
        f"{args.rounds} rounds x {args.steps} updates" + (f", torchmetrics {tm.__version__}" if tm else "")
    )
    if tm is None:
        print("torchmetrics is not installed: absolute figures only (pip install torchmetrics for the ratio)")
    print(
        f"{'metric':<18}"
        + "".join(f"{lib + ' us':>18}" for lib in libs)
        + ("   ratio runtime/torchmetrics" if tm else "")
    )
    for name, cfg in CONFIGS.items():
        samples: dict[str, list[float]] = {lib: [] for lib in libs}
        for _ in range(args.rounds):
            for lib, module in libs.items():  # alternated, so drift hits both
                metric = make(module, cfg["cls"], cfg["average"]).to(device)
                samples[lib].append(time_updates(metric, preds, target, args.steps, device))
        med = {lib: statistics.median(v) for lib, v in samples.items()}
        row = f"{name:<18}" + "".join(f"{med[lib]:>18.1f}" for lib in libs)
        if tm is not None:
            row += f"   {med['runtime'] / med['torchmetrics']:.2f}"
        print(row)
    if device.type == "cuda":
        failures = check_no_sync(device, preds, target)
        print(
            "no host-device sync in update: "
            + ("OK" if not failures else "FAILED\n  " + "\n  ".join(failures))
        )
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
