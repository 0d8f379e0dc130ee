"""Classification metrics against hand-worked cases and scikit-learn, for every task and average."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import runtime.metrics as M
from runtime.metrics import functional as F

sk = pytest.importorskip("sklearn.metrics")

C, L, N = 4, 3, 60
AVERAGES = ["micro", "macro", "weighted", None]


def _data(task, seed=0, logits=False):
    g = torch.Generator().manual_seed(seed)
    if task == "binary":
        preds = torch.randn(N, generator=g) if logits else torch.rand(N, generator=g)
        return preds, torch.randint(2, (N,), generator=g)
    if task == "multiclass":
        return torch.randn(N, C, generator=g), torch.randint(C, (N,), generator=g)
    return torch.rand(N, L, generator=g), torch.randint(2, (N, L), generator=g)


def _labels(task, preds):
    if task == "binary":
        p = preds if ((preds >= 0) & (preds <= 1)).all() else preds.sigmoid()
        return (p > 0.5).long().numpy()
    if task == "multiclass":
        return preds.argmax(1).numpy()
    return (preds > 0.5).long().numpy()


def _sk_average(task, average):
    if task == "binary":
        return "binary"
    return average


# ------------------------------------------------------------------ hand-worked
def test_hand_worked_binary():
    preds = torch.tensor([0.9, 0.2, 0.6, 0.4, 0.8])
    target = torch.tensor([1, 0, 0, 1, 1])
    # predicted 1, 0, 1, 0, 1 -> tp 2, fp 1, tn 1, fn 1
    assert F.stat_scores(preds, target, task="binary").tolist() == [2, 1, 1, 1, 3]
    assert float(F.accuracy(preds, target, task="binary")) == pytest.approx(3 / 5)
    assert float(F.precision(preds, target, task="binary")) == pytest.approx(2 / 3)
    assert float(F.recall(preds, target, task="binary")) == pytest.approx(2 / 3)
    assert float(F.specificity(preds, target, task="binary")) == pytest.approx(1 / 2)
    assert float(F.fbeta_score(preds, target, task="binary", beta=2.0)) == pytest.approx(5 * 2 / (5 * 2 + 4 * 1 + 1))
    assert F.confusion_matrix(preds, target, task="binary").tolist() == [[1, 1], [1, 2]]


def test_hand_worked_multiclass_averages_and_top_k():
    target = torch.tensor([0, 1, 2, 2])
    preds = torch.tensor([0, 2, 2, 1])
    # class 0: tp1 fp0 fn0; class 1: tp0 fp1 fn1; class 2: tp1 fp1 fn1
    kw = dict(task="multiclass", num_classes=3)
    assert float(F.accuracy(preds, target, **kw)) == pytest.approx(2 / 4)
    assert float(F.precision(preds, target, average="macro", **kw)) == pytest.approx((1 + 0 + 0.5) / 3)
    assert float(F.recall(preds, target, average="weighted", **kw)) == pytest.approx((1 * 1 + 0 * 1 + 0.5 * 2) / 4)
    assert F.f1_score(preds, target, average=None, **kw).tolist() == pytest.approx([1.0, 0.0, 0.5])
    scores = torch.tensor([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]])
    # top-2: sample 1 (target 1) misses, the others hit
    assert float(F.accuracy(scores, torch.tensor([0, 1, 1]), top_k=2, **kw)) == pytest.approx(2 / 3)


def test_hand_worked_multilabel_and_ignore_index():
    preds = torch.tensor([[1, 0], [1, 1], [0, 0]])
    target = torch.tensor([[1, 1], [0, 1], [-1, 0]])
    kw = dict(task="multilabel", num_labels=2, ignore_index=-1)
    # label 0: (1,1) tp, (1,0) fp, ignored; label 1: (0,1) fn, (1,1) tp, (0,0) tn
    assert F.stat_scores(preds, target, average=None, **kw).tolist() == [[1, 1, 0, 0, 1], [1, 0, 1, 1, 2]]
    assert float(F.accuracy(preds, target, average="micro", **kw)) == pytest.approx(3 / 5)
    bin_t = torch.tensor([1, -1, 0, 1])
    assert float(F.accuracy(torch.tensor([1, 0, 1, 1]), bin_t, task="binary", ignore_index=-1)) == pytest.approx(2 / 3)


def test_hand_worked_ranking():
    scores, target = torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])
    assert float(F.auroc(scores, target, task="binary")) == pytest.approx(0.75)
    assert float(F.average_precision(scores, target, task="binary")) == pytest.approx((1 + 2 / 3) / 2)
    # ties share a threshold: one positive and one negative tied count half
    assert float(F.auroc(torch.tensor([0.5, 0.5]), torch.tensor([0, 1]), task="binary")) == pytest.approx(0.5)


# ------------------------------------------------------------------ scikit-learn references
@pytest.mark.parametrize("task,average", [("binary", "micro")] + [(t, a) for t in ("multiclass", "multilabel") for a in AVERAGES])
def test_scores_match_sklearn(task, average):
    preds, target = _data(task, logits=True)
    y_pred, y_true = _labels(task, preds), target.numpy()
    kw = dict(task=task, num_classes=C, num_labels=L, average=average)
    avg = _sk_average(task, average)
    refs = {
        M.Precision: sk.precision_score(y_true, y_pred, average=avg, zero_division=0),
        M.Recall: sk.recall_score(y_true, y_pred, average=avg, zero_division=0),
        M.F1Score: sk.f1_score(y_true, y_pred, average=avg, zero_division=0),
    }
    for cls, ref in refs.items():
        metric = cls(**kw)
        for chunk in range(0, N, 16):  # several batches through forward
            metric(preds[chunk:chunk + 16], target[chunk:chunk + 16])
        np.testing.assert_allclose(metric.compute().numpy(), ref, rtol=1e-5, atol=1e-6, err_msg=cls.__name__)
    fb = M.FBetaScore(beta=0.5, **kw)
    fb.update(preds, target)
    np.testing.assert_allclose(fb.compute().numpy(), sk.fbeta_score(y_true, y_pred, beta=0.5, average=avg, zero_division=0), rtol=1e-5)
    if task != "multilabel" and average in ("micro", None):
        ref = sk.accuracy_score(y_true, y_pred) if average == "micro" else sk.recall_score(y_true, y_pred, average=None)
        np.testing.assert_allclose(M.Accuracy(**kw)(preds, target).numpy(), ref, rtol=1e-5)
    if task == "multilabel" and average == "micro":
        np.testing.assert_allclose(M.Accuracy(**kw)(preds, target).numpy(), (y_true == y_pred).mean(), rtol=1e-5)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_confusion_matrix_and_specificity_match_sklearn(task):
    preds, target = _data(task)
    y_pred, y_true = _labels(task, preds), target.numpy()
    kw = dict(task=task, num_classes=C, num_labels=L)
    if task == "multilabel":
        ref = sk.multilabel_confusion_matrix(y_true, y_pred)
    else:
        ref = sk.confusion_matrix(y_true, y_pred, labels=list(range(2 if task == "binary" else C)))
    cm = M.ConfusionMatrix(**kw)
    cm.update(preds[:25], target[:25])
    cm.update(preds[25:], target[25:])
    np.testing.assert_array_equal(cm.compute().numpy(), ref)
    true_norm = M.ConfusionMatrix(normalize="true", **kw)(preds, target).numpy()
    np.testing.assert_allclose(true_norm, ref / np.maximum(ref.sum(-1, keepdims=True), 1), rtol=1e-5)
    # specificity = tn / (tn + fp) per class, from the one-vs-rest matrices
    mcm = sk.multilabel_confusion_matrix(y_true, y_pred, labels=None if task != "multiclass" else list(range(C)))
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    spec = M.Specificity(average=None if task != "binary" else "micro", **kw)(preds, target).numpy()
    expected = tn / (tn + fp) if task != "binary" else (tn / (tn + fp))[1]
    np.testing.assert_allclose(spec, expected, rtol=1e-5)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("average", ["macro", "weighted", None])
def test_auroc_average_precision_match_sklearn(task, average):
    preds, target = _data(task, seed=3)
    kw = dict(task=task, num_classes=C, num_labels=L, average=average)
    probs = preds.softmax(-1) if task == "multiclass" else preds
    if task == "multiclass":
        onehot = np.eye(C)[target.numpy()]
        ref_auc = sk.roc_auc_score(onehot, probs.numpy(), average=average)
        ref_ap = sk.average_precision_score(onehot, probs.numpy(), average=average)
    else:
        ref_auc = sk.roc_auc_score(target.numpy(), probs.numpy(), average=average)
        ref_ap = sk.average_precision_score(target.numpy(), probs.numpy(), average=average)
    for cls, ref in ((M.AUROC, ref_auc), (M.AveragePrecision, ref_ap)):
        metric = cls(**kw)
        metric(preds[:7], target[:7])
        metric(preds[7:], target[7:])
        np.testing.assert_allclose(metric.compute().numpy(), ref, rtol=1e-5, err_msg=cls.__name__)


def test_multilabel_micro_auroc_matches_sklearn():
    preds, target = _data("multilabel", seed=5)
    ref = sk.roc_auc_score(target.numpy(), preds.numpy(), average="micro")
    assert float(F.auroc(preds, target, task="multilabel", num_labels=L, average="micro")) == pytest.approx(ref, rel=1e-5)


def test_auroc_with_single_class_target_is_nan_with_warning():
    with pytest.warns(UserWarning, match="undefined"):
        value = F.auroc(torch.tensor([0.2, 0.7]), torch.tensor([1, 1]), task="binary")
    assert torch.isnan(value)


# ------------------------------------------------------------------ Accuracy without a task (1.0)
def test_accuracy_without_task_infers_from_inputs():
    acc = M.Accuracy()
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    assert float(acc(logits, torch.tensor([0, 2]))) == 0.5  # (N, C) scores: multiclass argmax
    assert float(acc(torch.tensor([0.8, 0.3]), torch.tensor([1, 0]))) == 1.0  # probabilities: threshold 0.5
    assert float(acc(torch.tensor([-2.0, 3.0]), torch.tensor([0, 0]))) == 0.5  # logits: sigmoid first
    assert float(acc(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 0]))) == pytest.approx(2 / 3)  # labels
    assert float(acc.compute()) == pytest.approx((1 + 2 + 1 + 2) / 9)
    top2 = M.Accuracy(top_k=2)
    assert float(top2(logits, torch.tensor([2, 2]))) == 1.0


def test_functional_equals_class():
    preds, target = _data("multiclass", seed=7)
    for fn, cls in ((F.f1_score, M.F1Score), (F.precision, M.Precision), (F.accuracy, M.Accuracy)):
        kw = dict(task="multiclass", num_classes=C, average="macro")
        assert torch.equal(fn(preds, target, **kw), cls(**kw)(preds, target))


# ------------------------------------------------------------------ any split into batches
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(0, N), max_size=5),
       task=st.sampled_from(["binary", "multiclass", "multilabel"]), average=st.sampled_from(AVERAGES))
def test_any_split_into_batches_equals_whole(seed, cuts, task, average):
    preds, target = _data(task, seed=seed)
    bounds = [0, *sorted(cuts), N]
    kw = dict(task=task, num_classes=C, num_labels=L)
    metrics = [M.Accuracy(average=average, **kw), M.F1Score(average=average, **kw), M.StatScores(average=average, **kw),
               M.ConfusionMatrix(**kw), M.AUROC(average="macro" if average in ("micro", None) and task == "multiclass" else average, **kw)]
    for metric in metrics:
        for a, b in zip(bounds, bounds[1:]):
            if b > a:
                metric(preds[a:b], target[a:b])
        whole = type(metric)(**{k: getattr(metric, k) for k in ("average",) if hasattr(metric, "average")}, **kw)
        whole.update(preds, target)
        torch.testing.assert_close(metric.compute(), whole.compute(), equal_nan=True, msg=type(metric).__name__)
