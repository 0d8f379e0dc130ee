"""Import time: what `import runtime` costs on top of `import torch`.

Each run is a fresh interpreter that times its own imports with perf_counter (interpreter start-up
is left out, it is the same for both). The two kinds of run are alternated, 7 of each by default,
and the medians compared:

  torch            import torch
  torch+runtime    import torch; import runtime

The torch+runtime runs time `import runtime` on its own, after torch: the median of that is the
extra cost of runtime, the figure held to the target. median(torch+runtime) - median(torch) is
printed beside it as a cross-check; it is the difference of two ~1.5 s figures measured in different
processes, so on a busy 2-core machine it carries about +-0.1 s of noise. The runs also report the
libraries that `import runtime` must leave unimported (DESIGN.md: typer, cookiecutter, black,
tensorboard, rich are imported lazily, when used). A last row times `import scaffold.cli`, which
must not import torch (`scaffold --help` stays fast).

    python bench/import_time.py
    python bench/import_time.py --runs 11

Target (issue 2): runtime adds <= 0.15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.15
LAZY = ("typer", "cookiecutter", "black", "tensorboard", "rich")

CHILD = """
import json, sys, time
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
extra = {{}}
if {with_runtime}:
    t2 = time.perf_counter()
    import runtime
    t3 = time.perf_counter()
    extra["runtime_alone"] = t3 - t2
    extra["torch_part"] = t1 - t0
    extra["total"] = (t1 - t0) + (t3 - t2)
else:
    extra["total"] = t1 - t0
extra["loaded"] = sorted(m for m in {lazy!r} if m in sys.modules)
extra["torch_loaded"] = "torch" in sys.modules
print(json.dumps(extra))
"""


def _child(imports: str, with_runtime: bool) -> dict:
    code = CHILD.format(imports=imports, with_runtime=with_runtime, lazy=LAZY)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench: the import run failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each kind (default 7)")
    args = parser.parse_args(argv)

    torch_only, with_runtime, scaffold = [], [], []
    for i in range(args.runs):
        torch_only.append(_child("import torch", False))
        with_runtime.append(_child("import torch", True))
        scaffold.append(_child("import scaffold.cli", False))
        print(
            f"run {i + 1}/{args.runs}: torch {torch_only[-1]['total']:.3f} s, "
            f"torch+runtime {with_runtime[-1]['total']:.3f} s",
            file=sys.stderr,
            flush=True,
        )

    med_torch = statistics.median(r["total"] for r in torch_only)
    med_both = statistics.median(r["total"] for r in with_runtime)
    med_alone = statistics.median(r["runtime_alone"] for r in with_runtime)
    med_torch_part = statistics.median(r["torch_part"] for r in with_runtime)
    med_scaffold = statistics.median(r["total"] for r in scaffold)
    extra = med_alone
    print(f"{args.runs} runs each, alternated, fresh interpreters, python {sys.version.split()[0]}")
    print(f"{'import':<32} {'median s':>9}")
    print(f"{'torch':<32} {med_torch:9.3f}")
    print(f"{'torch; runtime':<32} {med_both:9.3f}")
    print(f"{'  of which torch':<32} {med_torch_part:9.3f}")
    print(f"{'runtime (after torch, in-process)':<32} {med_alone:9.3f}")
    print(f"{'scaffold.cli':<32} {med_scaffold:9.3f}")
    verdict = "ok" if extra <= TARGET else "MISSED"
    print(f"runtime adds {extra:.3f} s on top of torch (target <= {TARGET:.2f} s): {verdict}")
    print(
        f"  cross-check, difference of medians: {med_both - med_torch:+.3f} s (noisier: the torch part alone "
        f"differs by {med_torch_part - med_torch:+.3f} s between the two kinds of run)"
    )

    ok = extra <= TARGET
    loaded = sorted({m for r in with_runtime for m in r["loaded"]})
    if loaded:
        ok = False
        print(f"import runtime also imported: {', '.join(loaded)} (these should be lazy)")
    else:
        print(f"import runtime leaves unimported: {', '.join(LAZY)}")
    if any(r["torch_loaded"] for r in scaffold):
        ok = False
        print("import scaffold.cli imported torch (scaffold --help must not)")
    else:
        print("import scaffold.cli leaves torch unimported")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
