"""Regression, text and aggregation metrics against scikit-learn, numpy and hand-worked values."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import runtime.metrics as M
from runtime.metrics import functional as F

sk = pytest.importorskip("sklearn.metrics")


def _xy(seed=0, n=50, d=None):
    g = torch.Generator().manual_seed(seed)
    shape = (n,) if d is None else (n, d)
    target = torch.randn(shape, generator=g) * 2 + 100  # a large mean: sums of squares must not cancel
    return target + torch.randn(shape, generator=g), target


def _feed(metric, preds, target, cuts=(7, 30)):
    bounds = [0, *cuts, len(preds)]
    for a, b in zip(bounds, bounds[1:]):
        metric(preds[a:b], target[a:b])
    return metric.compute()


def test_regression_matches_sklearn_and_numpy():
    p, t = _xy()
    pn, tn = p.double().numpy(), t.double().numpy()
    cases = {
        M.MeanSquaredError(): sk.mean_squared_error(tn, pn),
        M.MeanSquaredError(squared=False): math.sqrt(sk.mean_squared_error(tn, pn)),
        M.MeanAbsoluteError(): sk.mean_absolute_error(tn, pn),
        M.MeanAbsolutePercentageError(): sk.mean_absolute_percentage_error(tn, pn),
        M.R2Score(): sk.r2_score(tn, pn),
        M.ExplainedVariance(): sk.explained_variance_score(tn, pn),
        M.PearsonCorrCoef(): np.corrcoef(pn, tn)[0, 1],
    }
    for metric, ref in cases.items():
        assert float(_feed(metric, p, t)) == pytest.approx(ref, rel=1e-4), type(metric).__name__
    n, k = len(tn), 3
    assert float(_feed(M.R2Score(adjusted=k), p, t)) == pytest.approx(1 - (1 - sk.r2_score(tn, pn)) * (n - 1) / (n - k - 1), rel=1e-4)


@pytest.mark.parametrize("multioutput", ["raw_values", "uniform_average", "variance_weighted"])
def test_multioutput_matches_sklearn(multioutput):
    p, t = _xy(seed=1, d=3)
    pn, tn = p.double().numpy(), t.double().numpy()
    np.testing.assert_allclose(_feed(M.R2Score(num_outputs=3, multioutput=multioutput), p, t).numpy(),
                               sk.r2_score(tn, pn, multioutput=multioutput), rtol=1e-4)
    np.testing.assert_allclose(_feed(M.ExplainedVariance(multioutput=multioutput, num_outputs=3), p, t).numpy(),
                               sk.explained_variance_score(tn, pn, multioutput=multioutput), rtol=1e-4)
    np.testing.assert_allclose(_feed(M.MeanSquaredError(num_outputs=3), p, t).numpy(),
                               sk.mean_squared_error(tn, pn, multioutput="raw_values"), rtol=1e-5)


def test_pearson_per_output_and_cosine_by_hand():
    p, t = _xy(seed=2, d=2)
    ref = [np.corrcoef(p[:, i].numpy(), t[:, i].numpy())[0, 1] for i in range(2)]
    np.testing.assert_allclose(_feed(M.PearsonCorrCoef(num_outputs=2), p, t).numpy(), ref, rtol=1e-4)
    a, b = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]), torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, -1.0]])
    sims = [1.0, 1 / math.sqrt(2), -1.0]
    assert float(_feed(M.CosineSimilarity(), a, b, cuts=(1,))) == pytest.approx(sum(sims))
    assert float(_feed(M.CosineSimilarity("mean"), a, b, cuts=(1,))) == pytest.approx(sum(sims) / 3)
    assert _feed(M.CosineSimilarity("none"), a, b, cuts=(1,)).tolist() == pytest.approx(sims)


def test_perplexity_hand_worked_and_ignore_index():
    assert float(F.perplexity(torch.zeros(2, 3, 5), torch.zeros(2, 3, dtype=torch.long))) == pytest.approx(5.0)
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]]))
    target = torch.tensor([[0, 1]])
    expected = math.exp(-(math.log(0.5) + math.log(0.8)) / 2)
    ppl = M.Perplexity()
    ppl(logits[:, :1], target[:, :1])
    ppl(logits[:, 1:], target[:, 1:])
    assert float(ppl.compute()) == pytest.approx(expected, rel=1e-5)
    masked = torch.tensor([[0, -100]])
    assert float(F.perplexity(logits, masked, ignore_index=-100)) == pytest.approx(2.0, rel=1e-5)


def test_aggregation_hand_worked():
    values = [torch.tensor([1.0, 2.0]), torch.tensor(3.0), torch.tensor([-4.0, 10.0])]
    expected = {M.SumMetric: 12.0, M.MaxMetric: 10.0, M.MinMetric: -4.0, M.MeanMetric: 12.0 / 5}
    for cls, ref in expected.items():
        m = cls()
        for v in values:
            m(v)
        assert float(m.compute()) == pytest.approx(ref), cls.__name__
    cat = M.CatMetric()
    for v in values:
        cat.update(v)
    assert cat.compute().tolist() == [1.0, 2.0, 3.0, -4.0, 10.0]
    weighted = M.MeanMetric()
    weighted.update(torch.tensor([1.0, 3.0]), weight=torch.tensor([3.0, 1.0]))
    weighted.update(2.0, weight=4.0)
    assert float(weighted.compute()) == pytest.approx((3 + 3 + 8) / 8)


def test_aggregation_nan_strategies():
    x = torch.tensor([1.0, float("nan"), 3.0])
    with pytest.warns(UserWarning, match="NaN"):
        m = M.MeanMetric()
        m.update(x)
    assert float(m.compute()) == 2.0
    with pytest.raises(ValueError, match="NaN"):
        M.SumMetric(nan_strategy="error").update(x)
    filled = M.SumMetric(nan_strategy=0.5)
    filled.update(x)
    assert float(filled.compute()) == 4.5
    with pytest.raises(ValueError, match="nan_strategy"):
        M.MeanMetric(nan_strategy="drop")


def test_functional_regression_equals_class():
    p, t = _xy(seed=4)
    assert torch.equal(F.mean_squared_error(p, t), M.MeanSquaredError()(p, t))
    assert torch.allclose(F.r2_score(p, t), M.R2Score()(p, t))
    assert torch.allclose(F.pearson_corrcoef(p, t), M.PearsonCorrCoef()(p, t))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(2, 48), max_size=4))
def test_any_split_into_batches_equals_whole(seed, cuts):
    p, t = _xy(seed=seed)
    bounds = [0, *sorted(set(cuts)), len(p)]
    for cls in (M.MeanSquaredError, M.MeanAbsoluteError, M.R2Score, M.PearsonCorrCoef, M.ExplainedVariance,
                M.MeanAbsolutePercentageError, M.MeanMetric, M.MaxMetric, M.CatMetric):
        split, whole = cls(), cls()
        two_args = cls not in (M.MeanMetric, M.MaxMetric, M.CatMetric)
        for a, b in zip(bounds, bounds[1:]):
            split(p[a:b], t[a:b]) if two_args else split(p[a:b])
        whole.update(p, t) if two_args else whole.update(p)
        torch.testing.assert_close(split.compute(), whole.compute(), rtol=1e-5, atol=1e-6, msg=cls.__name__)
