"""Stand-in data for the corpus runs (written by bench/refactor_corpus.py's stand-in steps and the requests stub)."""
import os
import random


def cora(folder, n=1700, features=32, classes=7):
    rng = random.Random(0)
    os.makedirs(folder, exist_ok=True)
    labels = [f"Class_{i}" for i in range(classes)]
    ids = [1000 + 3 * i for i in range(n)]
    with open(os.path.join(folder, "cora.content"), "w") as f:
        for i in ids:
            f.write("\t".join([str(i)] + [str(rng.randint(0, 1)) for _ in range(features)] + [rng.choice(labels)]) + "\n")
    with open(os.path.join(folder, "cora.cites"), "w") as f:
        for _ in range(3 * n):
            f.write(f"{rng.choice(ids)}\t{rng.choice(ids)}\n")
