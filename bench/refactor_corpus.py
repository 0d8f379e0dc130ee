"""`scaffold refactor` on a corpus of real training scripts: refactor each, train the project a few batches, run --verify.

    python bench/refactor_corpus.py --corpus /work/scratch/issue12/corpus            # all scripts, table and totals
    python bench/refactor_corpus.py --corpus DIR --only ex_mnist,yj_gan --keep       # a few, keeping their folders

The manifest (bench/refactor_corpus.json) names each script's repository, commit and path, its tiny-run arguments
and what stands in for its downloads. Scripts come from --corpus DIR/<id>/<file> (extracted copies) or, when missing,
from a git mirror (--mirrors DIR/<owner>+<name>/repo, read with `git show commit:path`). Offline stand-ins:
bench/refactor_corpus_stubs/ is put first on PYTHONPATH (torchvision, matplotlib, gym/gymnasium, requests stubs) and
the data files named in `standins` are generated here. A script counts as a success when the refactor writes a
project whose `train.py fit` runs 2 short epochs with validation and writes a checkpoint, and whose `--verify` says
MATCH; a refusal (a ScaffoldError with a reason) is counted apart; a written project that fails to import is "broken".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / "bench" / "refactor_corpus_stubs"
FIT = ["fit", "--trainer.max_epochs=2", "--trainer.limit_train_batches=3", "--trainer.limit_val_batches=2",
       "--trainer.limit_test_batches=2", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false"]


# ---------------------------------------------------------------------------------------------- stand-in data
def _text(path: Path) -> None:
    words = "the cat sat on a mat while dogs ran in the park and birds sang over green trees at dawn".split()
    rng = random.Random(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(5, 15))) for _ in range(120)) + "\n")


def standin(kind: str, where: Path, folder: Path) -> None:
    """Write one stand-in (``text:data/train.txt``, ``cora:cora``, ``sine:traindata.pt``, ``bsds:dataset/BSDS300``,
    ``mnistpkl:data/mnist/mnist.pkl.gz``, ``names:data/names``, ``jpeg:data/x.jpg``, ``powercsv:power.csv``)."""
    rel = where
    target = (folder / rel).resolve()
    if kind == "text":
        if target.suffix == ".txt":
            _text(target)
        else:
            for split in ("train", "valid", "test"):
                _text(target / f"{split}.txt")
    elif kind == "cora":
        sys.path.insert(0, str(STUBS))
        import _standins

        _standins.cora(str(target))
    elif kind == "sine":
        import numpy as np
        import torch

        np.random.seed(2)
        T, L, N = 20, 60, 12
        x = np.empty((N, L), "int64")
        x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
        torch.save(np.sin(x / 1.0 / T).astype("float64"), open(target, "wb"))
    elif kind == "bsds":
        from PIL import Image
        import numpy as np

        rng = np.random.default_rng(0)
        for split, n in (("train", 6), ("test", 4)):
            d = target / "images" / split
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(d / f"{i}.jpg")
    elif kind == "mnistpkl":
        # nn_tutorial's mnist.pkl.gz: ((x_train, y_train), (x_valid, y_valid), (x_test, y_test)), rows of 784 floats
        import gzip
        import pickle
        import numpy as np

        rng = np.random.default_rng(0)
        split = lambda n: (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64))
        target.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(target, "wb") as f:
            pickle.dump((split(512), split(256), split(256)), f)
    elif kind == "names":
        # char_rnn_classification's data/names/<Language>.txt: one name a line (Italian is read by name)
        rng = random.Random(0)
        target.mkdir(parents=True, exist_ok=True)
        for lang in ("Italian", "English", "French", "German", "Polish", "Japanese"):
            names = ["".join(rng.choice("abcdefghilmnoprstuvz") for _ in range(rng.randint(3, 9))).capitalize()
                     for _ in range(40)]
            (target / f"{lang}.txt").write_text("\n".join(names + ["Ślusàrski"]) + "\n", encoding="utf-8")
    elif kind == "powercsv":
        # custom_FCNN's power.csv: a header, then 2957 rows of 11 float features and an integer label 0-25
        import numpy as np

        rng = np.random.default_rng(0)
        rows = [",".join(f"{v:.4f}" for v in rng.random(11)) + f",{rng.integers(0, 26)}" for _ in range(2957)]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(",".join(f"f{i}" for i in range(11)) + ",label\n" + "\n".join(rows) + "\n")
    elif kind == "jpeg":
        from PIL import Image
        import numpy as np

        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(target)
    else:
        raise ValueError(f"unknown stand-in {kind}")


def make_standins(entry: dict, folder: Path) -> None:
    for s in entry["standins"]:
        kind, sep, rest = s.partition(":")
        if sep and kind in ("text", "cora", "sine", "bsds", "mnistpkl", "names", "jpeg", "powercsv"):
            standin(kind, Path(rest.split(" ")[0]), folder)


# ---------------------------------------------------------------------------------------------- one script
def fetch_script(entry: dict, corpus: Path, mirrors: Path | None, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for rel in [entry["path"]] + entry["extra"]:
        base = Path(rel).name
        local = corpus / entry["id"] / base
        if local.is_file():
            shutil.copy2(local, dest / base)
        elif mirrors is not None:
            git = mirrors / entry["repo"].replace("/", "+") / "repo"
            text = subprocess.run(["git", "-C", str(git), "show", f"{entry['commit']}:{rel}"], capture_output=True, check=True).stdout
            (dest / base).write_bytes(text)
        else:
            raise FileNotFoundError(f"{local} (give --corpus or --mirrors)")
    return dest / Path(entry["path"]).name


def _env(extra_path: list[Path], first: list[Path] = ()) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(p) for p in first] + [str(STUBS), str(ROOT)] + [str(p) for p in extra_path])
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["STUB_DATASET_SIZE"] = "256"
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _tail(text: str, n: int = 1) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[:300] if lines else ""


def run_one(entry: dict, args) -> dict:
    work = args.work / entry["id"]
    shutil.rmtree(work, ignore_errors=True)
    # the script sits in work/<pkgdir>/ and the project beside it, so `../data` means the same place for both
    pkgdir = Path(entry["path"]).parent.name if entry["id"] == "gcn_pygcn" else "src"
    src = work / pkgdir
    script = fetch_script(entry, args.corpus, args.mirrors, src)
    if entry["id"] == "gcn_pygcn":
        (src / "__init__.py").write_text("")
    make_standins(entry, src)
    extra = [work] if entry["id"] == "gcn_pygcn" else []
    hidden = work / "hidden"
    for name in entry.get("hide", []):
        # a package the script must not find (its own `except ImportError` fallback runs): a module that raises on import
        (hidden / name).mkdir(parents=True, exist_ok=True)
        (hidden / name / "__init__.py").write_text(f"raise ImportError('{name} is hidden by refactor_corpus.json')\n")
    env = {**_env(extra, [hidden] if entry.get("hide") else []), **entry.get("env", {})}
    row = {"id": entry["id"], "area": entry["area"], "refactor": "", "seconds": None, "imports": "", "fit": "", "verify": "", "why": ""}
    project = work / "project"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "scaffold", "refactor", str(script), "--output", str(project), "--", *entry["args"]],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    if proc.returncode != 0:
        crashed = "Traceback" in proc.stderr
        row["refactor"] = "CRASH" if crashed else "refused"
        row["why"] = _tail(proc.stderr, 1)
        return row
    row["refactor"] = "written"
    make_standins(entry, project)
    package = json.loads((project / ".scaffold.json").read_text())["package"]
    fit = subprocess.run([sys.executable, "train.py", *FIT, *entry.get("fit_args", [])], cwd=project, env=env, capture_output=True, text=True, timeout=args.timeout)
    ckpt = list(project.rglob("*.ckpt"))
    row["fit"] = "ok" if fit.returncode == 0 and ckpt else "FAIL"
    row["imports"] = "yes"
    if row["fit"] != "ok":
        row["why"] = _tail(fit.stderr) or "no checkpoint written"
        imp = subprocess.run([sys.executable, "-c", f"import {package}.module, {package}.datamodule"], cwd=project, env=env,
                             capture_output=True, text=True, timeout=300)
        if imp.returncode != 0:
            row["imports"] = "NO"
            row["why"] = _tail(imp.stderr)
            return row
    ver = subprocess.run([sys.executable, "-m", "scaffold", "refactor", str(script), "--output", str(work / "verified"), "--verify",
                          "--", *entry["args"]], cwd=work, env=env, capture_output=True, text=True, timeout=args.timeout)
    out = ver.stdout + ver.stderr
    row["verify"] = "MATCH" if ver.returncode == 0 and "MATCH" in out else "DIFFER" if "DIFFER" in out else "FAIL"
    if "--verify: the script failed" in out or "--verify: both the script and the project failed" in out:
        # the original script fails on its own (an API the installed torch no longer allows): not the refactor's doing
        row["verify"] = "SCRIPT"
        errors = [ln for ln in out.splitlines() if ln and not ln.startswith((" ", "Traceback", "error:"))]
        row["why"] = "the script itself fails: " + (errors[-1] if errors else _tail(out))[:260]
    if row["verify"] != "MATCH" and not row["why"]:
        verdict = [ln for ln in out.splitlines() if ln.startswith("DIFFER")]
        row["why"] = verdict[0][:300] if verdict else _tail(ver.stderr or ver.stdout, 1)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return row


# ---------------------------------------------------------------------------------------------- table
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, default=ROOT / "bench" / "refactor_corpus.json")
    p.add_argument("--corpus", type=Path, default=Path("/work/scratch/issue12/corpus"))
    p.add_argument("--mirrors", type=Path, default=None)
    p.add_argument("--work", type=Path, default=Path("/tmp/refactor-corpus"))
    p.add_argument("--only", default="", help="comma-separated ids")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--keep", action="store_true", help="keep each script's work folder")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args(argv)
    entries = json.loads(args.manifest.read_text())["scripts"]
    if args.only:
        wanted = set(args.only.split(","))
        entries = [e for e in entries if e["id"] in wanted]
    args.work.mkdir(parents=True, exist_ok=True)

    def safe(entry):
        try:
            row = run_one(entry, args)
        except Exception as err:  # a runner problem (timeout, missing file) is a row, not the end of the table
            row = {"id": entry["id"], "area": entry["area"], "refactor": "?", "seconds": None, "imports": "", "fit": "",
                   "verify": "", "why": f"runner: {type(err).__name__}: {err}"[:300]}
        print(f"[done] {row['id']}: {row['refactor']} {row['fit']} {row['verify']} {row['why'][:150]}", file=sys.stderr, flush=True)
        return row

    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(safe, entries))
    cols = ["id", "area", "refactor", "seconds", "imports", "fit", "verify"]
    widths = {c: max(len(c), *(len(str(r[c] if r[c] is not None else "-")) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols) + "  why")
    for r in rows:
        print("  ".join(str(r[c] if r[c] is not None else "-").ljust(widths[c]) for c in cols) + "  " + r["why"])
    n = len(rows)
    good = sum(r["fit"] == "ok" and r["verify"] == "MATCH" for r in rows)
    trained = sum(r["fit"] == "ok" for r in rows)
    refused = sum(r["refactor"] == "refused" for r in rows)
    broken = sum(r["imports"] == "NO" for r in rows)
    crashed = sum(r["refactor"] == "CRASH" for r in rows)
    own = sum(r["verify"] == "SCRIPT" for r in rows)
    times = sorted(r["seconds"] for r in rows if r["seconds"] is not None)
    print(f"\n{n} scripts: {good} train and verify (MATCH), {trained} train, {refused} refused, {crashed} refactor crashed, "
          f"{broken} written projects fail to import, {own} scripts that fail on their own (verify ran the original), "
          f"{n - good - refused - crashed - broken - own} other failures")
    if times:
        print(f"refactor time (the command, python start included): median {times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
