"""Import time: what `import runtime` costs on top of `import torch`.

Each run is a fresh interpreter that times its own imports with perf_counter (interpreter start-up
is left out, it is the same for both). The two kinds of run are alternated, 7 of each by default:

  torch            import torch
  torch+runtime    import torch; import runtime

The torch+runtime runs time `import runtime` on its own, after torch: the median of that is the
extra cost of runtime, the figure held to the target. median(torch+runtime) - median(torch) is
printed beside it as a cross-check; it is the difference of two ~1.5 s figures measured in different
processes, so on a busy 2-core machine it carries about +-0.1 s of noise.

Bytecode: these runs read compiled `.pyc` files, as an installed wheel does (pip writes them). The
children keep them in a temporary PYTHONPYCACHEPREFIX, filled by one untimed run first, so the
working tree gets no `__pycache__`. One more set of runs times `import runtime` from the checkout
as it stands, writing no bytecode: where PYTHONDONTWRITEBYTECODE=1 is set (as on this project's
machines) the checkout has no `__pycache__`, and every runtime module is compiled on each import.

The runs also report the libraries that `import runtime` must leave unimported (DESIGN.md: typer,
cookiecutter, black, tensorboard, rich are imported lazily, when used). A last row times
`import scaffold.cli`, which must not import torch (`scaffold --help` stays fast).

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
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.15
LAZY = ("typer", "cookiecutter", "black", "tensorboard", "rich")

CHILD = """
import json, sys, time
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
extra = {{"first": t1 - t0, "total": t1 - t0}}
if {with_runtime}:
    t2 = time.perf_counter()
    import runtime
    t3 = time.perf_counter()
    extra["runtime_alone"] = t3 - t2
    extra["total"] += t3 - t2
extra["loaded"] = sorted(m for m in {lazy!r} if m in sys.modules)
extra["torch_loaded"] = "torch" in sys.modules
print(json.dumps(extra))
"""


def _child(imports: str, with_runtime: bool, pycache: str | None) -> dict:
    """One fresh interpreter; ``pycache`` None: the checkout's own bytecode, if any, none written."""
    code = CHILD.format(imports=imports, with_runtime=with_runtime, lazy=LAZY)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench: the import run failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each kind (default 7)")
    args = parser.parse_args(argv)

    torch_only, with_runtime, scaffold, no_pyc = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="kindling-pycache-") as pycache:
        _child("import torch", True, pycache)  # untimed: fills the bytecode cache
        _child("import scaffold.cli", False, pycache)
        for i in range(args.runs):
            torch_only.append(_child("import torch", False, pycache))
            with_runtime.append(_child("import torch", True, pycache))
            scaffold.append(_child("import scaffold.cli", False, pycache))
            no_pyc.append(_child("import torch", True, None))
            print(
                f"run {i + 1}/{args.runs}: torch {torch_only[-1]['total']:.3f} s, "
                f"torch+runtime {with_runtime[-1]['total']:.3f} s, "
                f"runtime from the checkout {no_pyc[-1]['runtime_alone']:.3f} s",
                file=sys.stderr,
                flush=True,
            )

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    extra = med(with_runtime, "runtime_alone")
    print(f"{args.runs} runs each, alternated, fresh interpreters, python {sys.version.split()[0]}")
    print(f"{'import (median seconds)':<46} {'s':>6}")
    print(f"{'torch':<46} {med(torch_only, 'total'):6.3f}")
    print(f"{'torch; runtime':<46} {med(with_runtime, 'total'):6.3f}")
    print(f"{'  of which torch':<46} {med(with_runtime, 'first'):6.3f}")
    print(f"{'runtime, after torch (with bytecode)':<46} {extra:6.3f}")
    print(f"{'runtime, after torch (checkout, none written)':<46} {med(no_pyc, 'runtime_alone'):6.3f}")
    print(f"{'scaffold.cli':<46} {med(scaffold, 'total'):6.3f}")
    verdict = "ok" if extra <= TARGET else "MISSED"
    print(f"runtime adds {extra:.3f} s on top of torch (target <= {TARGET:.2f} s): {verdict}")
    diff = med(with_runtime, "total") - med(torch_only, "total")
    spread = med(with_runtime, "first") - med(torch_only, "total")
    print(
        f"  cross-check, difference of medians: {diff:+.3f} s (noisier: torch alone differs by "
        f"{spread:+.3f} s between the two kinds of run)"
    )

    ok = extra <= TARGET
    loaded = sorted({m for r in with_runtime + no_pyc for m in r["loaded"]})
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
