"""Generator time: `scaffold --help` (no torch import) and `scaffold new NAME --no-input`, wall clock.

Each run is a fresh interpreter started the way the console script starts (`python -m scaffold ...`,
the repository on PYTHONPATH), timed from outside, so interpreter start-up is included: it is what a
user waits for. The two commands alternate; medians of --runs runs each (default 7). Bytecode goes to a
temporary PYTHONPYCACHEPREFIX filled by one untimed run first, as an installed wheel has .pyc files.
Each `new` run writes into a fresh temporary folder, for every template in turn (gan by default).

    python bench/scaffold_time.py
    python bench/scaffold_time.py --runs 11 --template classifier

Targets (issue 7): `scaffold --help` <= 0.3 s with no torch import; `scaffold new --no-input` <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"gan": "gan-project", "classifier": "mnist-classifier", "autoencoder": "ae-project",
         "language-model": "char-lm", "minimal": "my-project"}


def _timed(args: list[str], cwd: str, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--template", default="gan", choices=sorted(NAMES))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as pycache, tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=pycache, PYTHONDONTWRITEBYTECODE="")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        name = NAMES[args.template]
        new = ["-m", "scaffold", "new", name, "--template", args.template, "--no-input"]
        # warm-up (fills the bytecode cache) and the torch check
        check = "import sys; from scaffold.cli import run; run(['--help']); print('torch' in sys.modules)"
        torch_imported = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True,
                                        text=True).stdout.strip().splitlines()[-1]
        _timed(new, tempfile.mkdtemp(dir=work), env)
        helps, news = [], []
        for _ in range(args.runs):
            helps.append(_timed(["-m", "scaffold", "--help"], work, env))
            news.append(_timed(new, tempfile.mkdtemp(dir=work), env))

    print(f"{'command':<40} {'median s':>9} {'min s':>7} {'max s':>7}  target")
    print(f"{'scaffold --help':<40} {statistics.median(helps):9.3f} {min(helps):7.3f} {max(helps):7.3f}  <= 0.3")
    label = f"scaffold new {name} --no-input"
    print(f"{label:<40} {statistics.median(news):9.3f} {min(news):7.3f} {max(news):7.3f}  <= 2.0")
    print(f"torch imported by `scaffold --help`: {torch_imported}")
    print(f"runs: {args.runs} each, alternated; machine load (1 min): {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
