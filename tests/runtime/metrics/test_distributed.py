"""Two real processes (gloo on CPU): synced values equal the single-process value on the union of the data.

One spawn runs every case, to keep the cost of starting processes to once. Shards are uneven, and in
some cases rank 1 sees no data at all (it never calls update) yet takes part in compute without hanging.
"""
import os
import traceback

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = 2
N = 37


def _cases():
    import runtime.metrics as M

    C, L = 4, 3
    return [
        # (name, factory, data kind)
        ("accuracy_macro", lambda: M.Accuracy(task="multiclass", num_classes=C, average="macro"), "multiclass"),
        ("accuracy_no_task", lambda: M.Accuracy(), "multiclass"),
        ("f1_weighted", lambda: M.F1Score(task="multiclass", num_classes=C, average="weighted"), "multiclass"),
        ("precision_binary", lambda: M.Precision(task="binary"), "binary"),
        ("recall_multilabel", lambda: M.Recall(task="multilabel", num_labels=L, average="macro"), "multilabel"),
        ("fbeta", lambda: M.FBetaScore(task="multiclass", num_classes=C, beta=2.0), "multiclass"),
        ("specificity", lambda: M.Specificity(task="multilabel", num_labels=L, average=None), "multilabel"),
        ("stat_scores", lambda: M.StatScores(task="multiclass", num_classes=C, average=None), "multiclass"),
        ("confusion_matrix", lambda: M.ConfusionMatrix(task="multiclass", num_classes=C), "multiclass"),
        ("auroc", lambda: M.AUROC(task="multiclass", num_classes=C), "multiclass"),
        ("average_precision", lambda: M.AveragePrecision(task="binary"), "binary"),
        ("mse", lambda: M.MeanSquaredError(squared=False), "regression"),
        ("mae", lambda: M.MeanAbsoluteError(), "regression"),
        ("mape", lambda: M.MeanAbsolutePercentageError(), "regression"),
        ("r2", lambda: M.R2Score(), "regression"),
        ("pearson", lambda: M.PearsonCorrCoef(), "regression"),
        ("explained_variance", lambda: M.ExplainedVariance(), "regression"),
        ("cosine_none", lambda: M.CosineSimilarity(reduction="none"), "vectors"),
        ("perplexity", lambda: M.Perplexity(), "tokens"),
        ("mean", lambda: M.MeanMetric(), "values"),
        ("sum", lambda: M.SumMetric(), "values"),
        ("max", lambda: M.MaxMetric(), "values"),
        ("min", lambda: M.MinMetric(), "values"),
        ("cat", lambda: M.CatMetric(), "values"),
    ]


def _data(kind):
    g = torch.Generator().manual_seed(1)
    if kind == "multiclass":
        return torch.randn(N, 4, generator=g), torch.randint(4, (N,), generator=g)
    if kind == "binary":
        return torch.rand(N, generator=g), torch.randint(2, (N,), generator=g)
    if kind == "multilabel":
        return torch.rand(N, 3, generator=g), torch.randint(2, (N, 3), generator=g)
    if kind == "regression":
        t = torch.randn(N, generator=g) + 5
        return t + torch.randn(N, generator=g) * 0.5, t
    if kind == "vectors":
        return torch.randn(N, 3, generator=g), torch.randn(N, 3, generator=g)
    if kind == "tokens":
        return torch.randn(N, 5, 6, generator=g), torch.randint(6, (N, 5), generator=g)
    return (torch.randn(N, generator=g),)


def _shards(rank, empty_rank1):
    # rank 0: [0, 30) in batches of 8 (uneven last batch); rank 1: [30, N) or nothing
    if rank == 0:
        stop = N if empty_rank1 else 30
        return [(a, min(a + 8, stop)) for a in range(0, stop, 8)]
    return [] if empty_rank1 else [(30, 33), (33, N)]


def _worker(rank, store_path, errors_dir):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store_path}", rank=rank, world_size=WORLD)
    failures = []
    try:
        import runtime.metrics as M

        for name, factory, kind in _cases():
            data = _data(kind)
            reference = factory()
            reference.sync_on_compute = False  # the single-process value on the union
            reference.update(*data)
            expected = reference.compute()
            for empty_rank1 in (False, True):
                metric = factory()
                for a, b in _shards(rank, empty_rank1):
                    metric(*(d[a:b] for d in data))  # forward: batch values, no sync on step
                try:
                    got = metric.compute()
                    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
                    # the local state is restored after the synced compute: accumulation continues
                    assert metric._update_count == len(_shards(rank, empty_rank1))
                except Exception:
                    failures.append(f"rank {rank} {name} empty_rank1={empty_rank1}:\n{traceback.format_exc()}")
        # dist_sync_on_step: the batch value covers both processes' batches
        step = M.SumMetric(dist_sync_on_step=True)
        value = step(torch.tensor([1.0, 2.0]) if rank == 0 else torch.tensor([10.0]))
        if float(value) != 13.0 or float(step.sum_value) != (3.0 if rank == 0 else 10.0):
            failures.append(f"rank {rank} dist_sync_on_step: batch value {float(value)}")
        # a collection syncs each of its metrics
        col = M.MetricCollection([M.MeanMetric(), M.MaxMetric()], prefix="v_")
        col.update(torch.tensor([float(rank)]))
        if {k: float(v) for k, v in col.compute().items()} != {"v_MeanMetric": 0.5, "v_MaxMetric": 1.0}:
            failures.append(f"rank {rank} MetricCollection: {col.compute()}")
    finally:
        with open(os.path.join(errors_dir, f"rank{rank}.txt"), "w") as f:
            f.write("\n".join(failures))
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
@pytest.mark.timeout(180)
def test_two_processes_sync_equals_union(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path / "store"), str(tmp_path)), nprocs=WORLD, join=True)
    report = "\n".join((tmp_path / f"rank{r}.txt").read_text() for r in range(WORLD)).strip()
    assert report == "", report
