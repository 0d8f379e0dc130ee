"""Trainer overhead in instructions, which a noisy shared machine cannot blur.

The wall-clock ratios of bench/overhead.py swing by ±40% on a shared VM. This counts instructions with
``valgrind --tool=callgrind`` instead: each configuration (hand-written loop, runtime with logger /
bar / checkpointing off = A, runtime defaults = B) runs at 100 and at 400 steps of the same tiny-MLP
work; the difference / 300 is the cost of one steady-state step, setup excluded. The ratio to the
hand-written loop is the overhead figure. Needs valgrind; takes ~4 minutes per run (runs 2 at a time).

    python bench/overhead_instructions.py
    python bench/overhead_instructions.py --configs hand,A --steps 50,150   # a quicker look (fewer steps, 4 runs)
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def count(mode: str, steps: int) -> int:
    out = os.path.join(tempfile.mkdtemp(), "cg.out")
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                           os.path.join(HERE, "overhead_insn_worker.py"), mode, str(steps)],
                          capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if not m:
        raise RuntimeError(proc.stderr[-2000:])
    return int(m.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="hand,A,B", help="comma-separated, from hand, A, B (hand is always run)")
    parser.add_argument("--steps", default="100,400", help="the two step counts whose difference is measured")
    args = parser.parse_args()
    modes = ["hand"] + [m for m in args.configs.split(",") if m in ("A", "B")]
    low, high = (int(n) for n in args.steps.split(","))
    jobs = [(mode, steps) for mode in modes for steps in (low, high)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        counts = dict(zip(jobs, pool.map(lambda j: count(*j), jobs)))
    per_step = {mode: (counts[(mode, high)] - counts[(mode, low)]) / (high - low) for mode in modes}
    for mode, value in per_step.items():
        print(f"{mode:>4}: {value:12,.0f} instructions/step  ratio {value / per_step['hand']:.4f}")


if __name__ == "__main__":
    main()
