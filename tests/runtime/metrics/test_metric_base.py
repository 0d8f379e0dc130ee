"""The ``Metric`` base: add_state, update/compute/reset, forward, caching, devices, state_dict, the 1.0 example."""
import copy
import warnings

import pytest
import torch
from torch import nn

from runtime.metrics import Accuracy, MeanMetric, Metric, SumMetric


class MyAccuracy(Metric):
    """The 1.0 announcement's example, verbatim apart from the import (the article's typo fixed)."""

    def __init__(self, dist_sync_on_step=False):
        super().__init__(dist_sync_on_step=dist_sync_on_step)
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor):
        preds, target = self._input_format(preds, target)
        assert preds.shape == target.shape
        self.correct += torch.sum(preds == target)
        self.total += target.numel()

    def compute(self):
        return self.correct.float() / self.total


class Reducers(Metric):
    """One state per reduction, to check that forward merges each one like a plain update would."""

    def __init__(self):
        super().__init__()
        self.add_state("s", torch.tensor(0.0), "sum")
        self.add_state("lo", torch.tensor(float("inf")), "min")
        self.add_state("hi", torch.tensor(-float("inf")), "max")
        self.add_state("seen", [], "cat")
        self.add_state("avg", torch.tensor(0.0), "mean")

    def update(self, x):
        self.s += x.sum()
        self.lo = torch.minimum(self.lo, x.min())
        self.hi = torch.maximum(self.hi, x.max())
        self.seen.append(x)
        self.avg = self.avg + x.mean()  # from a fresh state: this batch's mean

    def compute(self):
        return torch.stack([self.s, self.lo, self.hi, torch.cat(self.seen).sum()])


def test_announcement_my_accuracy_runs_unchanged():
    acc = MyAccuracy()
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    target = torch.tensor([0, 1, 1, 1])
    batch = acc(probs[:2], target[:2])
    assert float(batch) == 1.0  # forward returns the batch value
    acc(probs[2:], target[2:])
    assert float(acc.compute()) == pytest.approx(3 / 4)
    acc.reset()
    assert int(acc.correct) == 0 and int(acc.total) == 0


def test_input_format_is_lightning_1_0():
    m = MyAccuracy()
    preds, target = m._input_format(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]))
    assert preds.tolist() == [1, 0] and target.tolist() == [1, 1]
    preds, _ = m._input_format(torch.tensor([0.2, 0.7]), torch.tensor([0, 1]))
    assert preds.tolist() == [0, 1]
    with pytest.raises(ValueError, match="preds"):
        m._input_format(torch.zeros(2, 3, 4), torch.zeros(2, dtype=torch.long))


def test_forward_returns_batch_value_and_accumulates_once():
    calls = []

    class Counting(SumMetric):
        def update(self, value):
            calls.append(1)
            super().update(value)

    m = Counting()
    assert float(m(torch.tensor([1.0, 2.0]))) == 3.0
    assert float(m(torch.tensor([4.0]))) == 4.0
    assert float(m.compute()) == 7.0
    assert len(calls) == 2  # forward calls update once per batch
    assert float(m._forward_cache) == 4.0


def test_forward_merges_every_reduction_like_update():
    xs = [torch.tensor([1.0, 5.0]), torch.tensor([-2.0]), torch.tensor([3.0, 3.0, 0.5])]
    a, b = Reducers(), Reducers()
    for x in xs:
        a(x)
        b.update(x)
    assert torch.equal(a.compute(), b.compute())
    assert a.compute().tolist() == [10.5, -2.0, 5.0, 10.5]
    assert float(a.avg) == pytest.approx(sum(float(x.mean()) for x in xs) / 3)


def test_forward_with_unmergeable_state_updates_twice_but_state_is_right():
    class Stacked(Metric):
        def __init__(self):
            super().__init__()
            self.add_state("values", torch.zeros(0), dist_reduce_fx=None)

        def update(self, x):
            self.values = torch.cat([self.values, x])

        def compute(self):
            return self.values.sum()

    m = Stacked()
    assert float(m(torch.tensor([1.0, 2.0]))) == 3.0
    assert float(m(torch.tensor([5.0]))) == 5.0
    assert m.values.tolist() == [1.0, 2.0, 5.0] and float(m.compute()) == 8.0


def test_compute_is_cached_until_update_and_reset_restores_defaults():
    calls = []

    class M(SumMetric):
        def compute(self):
            calls.append(1)
            return super().compute()

    m = M()
    m.update(torch.tensor(2.0))
    assert float(m.compute()) == 2.0 and float(m.compute()) == 2.0
    assert len(calls) == 1
    m.update(torch.tensor(3.0))
    assert float(m.compute()) == 5.0 and len(calls) == 2
    held = m.sum_value
    m.reset()
    assert float(m.sum_value) == 0.0 and float(held) == 5.0  # reset makes new tensors


def test_compute_before_update_warns():
    with pytest.warns(UserWarning, match="before any update"):
        MeanMetric().compute()


def test_update_runs_without_autograd():
    m = SumMetric()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    m.update(x * 2)
    assert not m.sum_value.requires_grad


def test_add_state_validation():
    m = Metric.__new__(Metric)
    Metric.__init__(m)
    with pytest.raises(ValueError, match="dist_reduce_fx"):
        m.add_state("x", torch.tensor(0), dist_reduce_fx="avg")
    with pytest.raises(ValueError, match="default"):
        m.add_state("x", [torch.tensor(1)])
    with pytest.raises(ValueError, match="default"):
        m.add_state("x", 3)
    m.add_state("x", torch.tensor(0), dist_reduce_fx=lambda t: t.sum(0))  # a callable is fine


def test_unknown_constructor_argument_is_named():
    with pytest.raises(TypeError, match="dist_sync_on_stp.*dist_sync_on_step"):
        SumMetric(dist_sync_on_stp=True)


def test_states_follow_device_but_not_dtype():
    model = nn.Module()
    model.acc = MyAccuracy()
    model.mean = MeanMetric()
    model.mean.update(torch.tensor([1.0, 2.0]))
    model.double()  # a dtype change leaves counts and sums alone
    assert model.mean.mean_value.dtype == torch.float32 and model.acc.correct.dtype == torch.int64
    model.to("meta")  # a device change moves every state (meta stands in for an accelerator)
    assert model.mean.mean_value.device.type == "meta" and model.acc.total.device.type == "meta"
    assert model.mean.device.type == "meta"
    model.acc.reset()
    assert model.acc.correct.device.type == "meta"


def test_state_dict_only_with_persistent_states():
    m = MeanMetric()
    m.update(torch.tensor([2.0, 4.0]))
    assert m.state_dict() == {}
    m.persistent(True)
    sd = m.state_dict()
    assert float(sd["mean_value"]) == 6.0 and float(sd["weight"]) == 2.0
    other = MeanMetric()
    other.persistent(True)
    other.load_state_dict(sd)
    assert float(other.compute()) == 3.0

    class WithList(Metric):
        def __init__(self):
            super().__init__()
            self.add_state("xs", [], dist_reduce_fx="cat", persistent=True)

        def update(self, x):
            self.xs.append(x)

        def compute(self):
            return torch.cat(self.xs)

    w = WithList()
    w.update(torch.tensor([1.0]))
    w2 = WithList()
    w2.load_state_dict(w.state_dict())
    assert w2.compute().tolist() == [1.0]


def test_metric_inside_module_state_dict_is_unchanged_by_default():
    model = nn.Linear(2, 2)
    model.acc = Accuracy(task="multiclass", num_classes=3)
    assert set(model.state_dict()) == {"weight", "bias"}


def test_clone_and_deepcopy_are_independent():
    m = SumMetric()
    m.update(torch.tensor(1.0))
    c = copy.deepcopy(m)
    c.update(torch.tensor(10.0))
    assert float(m.compute()) == 1.0 and float(c.compute()) == 11.0
    assert float(m.clone().compute()) == 1.0


def test_compute_on_step_false_returns_none():
    m = SumMetric(compute_on_step=False)
    assert m(torch.tensor(3.0)) is None
    assert float(m.compute()) == 3.0


def test_subclass_super_update_counts_once_and_no_warning():
    class Child(MeanMetric):
        def update(self, value, weight=1.0):
            super().update(value, weight)

    c = Child()
    c.update(torch.tensor(1.0))
    assert c._update_count == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(c.compute()) == 1.0
