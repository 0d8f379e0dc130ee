"""Bad input gives one clear error that names the argument."""
import pytest
import torch

import runtime.metrics as M
from runtime.metrics import functional as F


@pytest.mark.parametrize("make, match", [
    (lambda: M.Precision(), "needs `task`"),
    (lambda: M.F1Score(task="multiclas", num_classes=3), "task=.*Did you mean 'multiclass'"),
    (lambda: M.Accuracy(task="multiclass"), "num_classes"),
    (lambda: M.Recall(task="multilabel", num_labels=1), "num_labels"),
    (lambda: M.Precision(task="multiclass", num_classes=3, average="macr"), "average=.*Did you mean 'macro'"),
    (lambda: M.Accuracy(task="binary", threshold=1.5), "threshold"),
    (lambda: M.Accuracy(task="multiclass", num_classes=3, top_k=4), "top_k"),
    (lambda: M.FBetaScore(task="binary", beta=0), "beta"),
    (lambda: M.ConfusionMatrix(task="binary", normalize="rows"), "normalize"),
    (lambda: M.AUROC(task="multiclass", num_classes=3, average="micro"), "average"),
    (lambda: M.R2Score(multioutput="mean"), "multioutput"),
    (lambda: M.CosineSimilarity(reduction="avg"), "reduction"),
    (lambda: M.MeanSquaredError(num_outputs=0), "num_outputs"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("call, match", [
    (lambda: M.Accuracy(task="binary")(torch.rand(4), torch.ones(3, dtype=torch.long)), "same shape"),
    (lambda: M.Accuracy(task="multiclass", num_classes=3)(torch.rand(4, 3), torch.tensor([0, 1, 3, 1])), r"`target`.*num_classes=3"),
    (lambda: M.Accuracy(task="multiclass", num_classes=3)(torch.tensor([0, 5]), torch.tensor([0, 1])), r"`preds`.*num_classes=3"),
    (lambda: M.Accuracy(task="multiclass", num_classes=3)(torch.rand(4, 5), torch.zeros(4, dtype=torch.long)), "num_classes"),
    (lambda: M.F1Score(task="binary")(torch.rand(3), torch.tensor([0, 2, 1])), "`target` must hold 0 or 1"),
    (lambda: M.Recall(task="multilabel", num_labels=3)(torch.rand(2, 4), torch.ones(2, 4, dtype=torch.long)), "num_labels=3"),
    (lambda: M.Accuracy(task="binary")(torch.rand(3), torch.rand(3)), "`target` must hold integer labels"),
    (lambda: M.Accuracy()(torch.rand(4, 3, 2), torch.zeros(4, dtype=torch.long)), "preds"),
    (lambda: M.AUROC(task="binary")(torch.tensor([0, 1]), torch.tensor([0, 1])), "`preds` must hold float scores"),
    (lambda: M.MeanSquaredError()(torch.rand(3), torch.rand(4)), "same shape"),
    (lambda: M.R2Score(num_outputs=2)(torch.rand(3), torch.rand(3)), "num_outputs=2"),
    (lambda: M.Perplexity()(torch.rand(2, 3), torch.zeros(2, dtype=torch.long)), "`preds` must be logits"),
    (lambda: M.Perplexity()(torch.rand(2, 3, 4), torch.full((2, 3), 4)), "`target` holds token ids outside"),
    (lambda: M.MeanMetric()(torch.ones(3), weight=torch.ones(2)), "`weight`"),
    (lambda: F.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 7]), task="multiclass", num_classes=3), r"`target`"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_ignore_index_is_allowed_outside_range():
    acc = M.Accuracy(task="multiclass", num_classes=3, ignore_index=-100)
    assert float(acc(torch.tensor([0, 1, 2]), torch.tensor([0, -100, 1]))) == 0.5


def test_value_errors_on_an_accelerator_are_deferred_to_compute():
    # On CUDA/MPS the check must not synchronise in update; it is recorded and raised by compute.
    # The deferral is exercised here by calling the check with a recorder, as update does on a device.
    from runtime.metrics.utilities import check_values

    record = {}
    bad = torch.tensor([False, True], device="meta")
    check_values(bad, "`target` is bad", record)  # meta: not cpu, so recorded, not read
    assert list(record) == ["`target` is bad"]
    m = M.SumMetric()
    m._deferred = {"`target` holds labels outside": torch.tensor(True)}
    with pytest.raises(ValueError, match="labels outside"):
        m.compute()
