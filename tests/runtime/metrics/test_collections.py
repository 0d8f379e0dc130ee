"""MetricCollection: names, prefix/postfix, dict or list, update/compute/reset together."""
import pytest
import torch

import runtime.metrics as M


def test_list_and_dict_with_prefix_postfix():
    col = M.MetricCollection([M.SumMetric(), M.MaxMetric()], prefix="train_", postfix="_x")
    out = col(torch.tensor([1.0, 4.0]))
    assert {k: float(v) for k, v in out.items()} == {"train_SumMetric_x": 5.0, "train_MaxMetric_x": 4.0}
    col.update(torch.tensor([2.0]))
    assert {k: float(v) for k, v in col.compute().items()} == {"train_SumMetric_x": 7.0, "train_MaxMetric_x": 4.0}
    col.reset()
    assert float(col["SumMetric"].sum_value) == 0.0
    named = M.MetricCollection({"total": M.SumMetric(), "avg": M.MeanMetric()})
    assert sorted(named.keys()) == ["avg", "total"]
    val = named.clone(prefix="val_")
    assert sorted(val.keys()) == ["val_avg", "val_total"] and sorted(val.keys(keep_base=True)) == ["avg", "total"]


def test_keyword_arguments_go_to_metrics_that_take_them():
    col = M.MetricCollection({"mean": M.MeanMetric(), "sum": M.SumMetric()})
    out = col(torch.tensor([1.0, 3.0]), weight=torch.tensor([3.0, 1.0]))
    assert float(out["mean"]) == 1.5 and float(out["sum"]) == 4.0


def test_bad_members_and_duplicates():
    with pytest.raises(ValueError, match="not a Metric"):
        M.MetricCollection([torch.nn.Linear(1, 1)])
    with pytest.raises(ValueError, match="two metrics are named 'SumMetric'"):
        M.MetricCollection([M.SumMetric(), M.SumMetric()])
