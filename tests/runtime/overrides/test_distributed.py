"""runtime.overrides.distributed: samplers that split data across processes."""
import torch

from runtime.overrides.distributed import DistributedSamplerWrapper, UnrepeatedDistributedSampler


def test_unrepeated_sampler_counts_every_sample_once():
    data = list(range(10))
    shards = [list(UnrepeatedDistributedSampler(data, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert sorted(i for s in shards for i in s) == data and [len(s) for s in shards] == [4, 3, 3]
    shuffled = [list(UnrepeatedDistributedSampler(data, num_replicas=3, rank=r, shuffle=True, seed=1)) for r in range(3)]
    assert sorted(i for s in shuffled for i in s) == data


def test_wrapper_keeps_a_custom_order_and_pads():
    order = [9, 1, 8, 2, 7]
    parts = [list(DistributedSamplerWrapper(order, num_replicas=2, rank=r)) for r in range(2)]
    assert parts == [[9, 8, 7], [1, 2, 9]] and len(DistributedSamplerWrapper(order, 2, 0)) == 3
    assert torch.utils.data.DataLoader(range(5), sampler=DistributedSamplerWrapper(order, 2, 1)) is not None
