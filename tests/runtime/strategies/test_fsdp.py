"""FSDP (torch's fully_shard) with real processes, gloo on CPU: parameters really sharded, the same
training as one process with the same global batch, checkpoints in the single-device format that
resume across strategies in both directions, sharded checkpoint folders, meta-device init; and the
strategy's bad input."""
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from runtime.strategies import DDPStrategy, FSDPStrategy, SingleDeviceStrategy
from runtime.utilities.exceptions import MisconfigurationException

pytestmark = pytest.mark.slow  # several real processes per test

SCRIPT = Path(__file__).with_name("fsdp_script.py")
REPO = str(Path(__file__).resolve().parents[3])
_DIST_ENV = ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_PORT", "MASTER_ADDR", "NODE_RANK", "GROUP_RANK")


def launch(tmp: Path, name: str, timeout: float = 180, **extra: str) -> subprocess.CompletedProcess:
    """Run fsdp_script.py (it starts its other ranks itself) in a clean environment."""
    env = {k: v for k, v in os.environ.items() if k not in _DIST_ENV}
    env.update(REPO=REPO, ROOT=str(tmp / name), OUT=str(tmp / f"{name}_RANK.pt"), **extra)
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=timeout)


def run(tmp: Path, name: str, **extra: str) -> dict:
    """A run that must succeed: each rank's output file."""
    done = launch(tmp, name, **extra)
    assert done.returncode == 0, done.stderr[-4000:]
    ranks = int(extra.get("DEVICES", "2")) if extra.get("MODE", "fsdp") == "fsdp" else 1
    return {r: torch.load(tmp / f"{name}_{r}.pt", weights_only=True, map_location="cpu") for r in range(ranks)}


def assert_close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two epochs, accumulate_grad_batches=2, clipping, Adam: on 2 FSDP processes and on one process."""
    tmp = tmp_path_factory.mktemp("fsdp")
    return tmp, run(tmp, "fsdp", MODE="fsdp"), run(tmp, "single", MODE="single")


def test_two_processes_hold_half_the_parameters_each_and_train_like_one(runs):
    tmp, fsdp, single = runs
    r0, r1 = fsdp[0], fsdp[1]
    full = single[0]["shards"]  # element counts on one process
    for name, numel in full.items():  # every tensor split between the ranks, none held whole
        assert r0["shards"][name] + r1["shards"][name] == numel, name
        assert r0["shards"][name] < numel and r1["shards"][name] < numel, name
    assert r0["sharded"].startswith("FSDP")
    assert r0["global_step"] == single[0]["global_step"] == 6
    for k in r0["state"]:
        assert torch.equal(r0["state"][k], r1["state"][k]), k  # gathered weights agree on every rank
    assert_close(r0["state"], single[0]["state"])
    assert math.isclose(r0["val_loss"], single[0]["val_loss"], rel_tol=1e-5)
    # trainer.validate after fit runs in the same processes, through the sharded model
    assert r0["validated"] == r1["validated"]
    assert math.isclose(r0["validated"][0]["val_loss"], single[0]["validated"][0]["val_loss"], rel_tol=1e-5)
    assert r0["validated_again"] == r0["validated"]  # and so does a new Trainer given the sharded model
    root = tmp / "fsdp"  # only global rank zero wrote files
    assert [p.name for p in (root / "lightning_logs").iterdir()] == ["version_0"]
    assert sorted(p.name for p in (root / "ckpt").iterdir()) == ["epoch=0-step=3.ckpt", "epoch=1-step=6.ckpt", "last.ckpt"]


def test_checkpoint_holds_full_tensors_and_loads_on_one_device(runs):
    tmp, fsdp, single = runs
    path = tmp / "fsdp" / "ckpt" / "last.ckpt"
    ckpt = torch.load(path, weights_only=True)
    final = fsdp[0]["state"]
    for k, v in final.items():
        assert torch.equal(ckpt["state_dict"][k], v), k
    # the optimizer state is in the single-device format: integer keys, full-size moments
    params = list(final.values())
    opt_state = ckpt["optimizer_states"][0]["state"]
    assert sorted(opt_state) == list(range(len(params)))
    assert [opt_state[i]["exp_avg"].shape for i in range(len(params))] == [p.shape for p in params]
    model = load_script().Net.load_from_checkpoint(path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, final[k]), k


def test_resume_across_strategies_in_both_directions(runs):
    tmp, fsdp, single = runs
    # a one-process run resumes from the FSDP run's epoch-0 checkpoint (weights, Adam state, progress)
    one = run(tmp, "one_from_fsdp", MODE="single", RESUME=str(tmp / "fsdp" / "ckpt" / "epoch=0-step=3.ckpt"))
    assert one[0]["global_step"] == 6
    assert_close(one[0]["state"], single[0]["state"])
    # two FSDP processes resume from the one-process run's epoch-0 checkpoint
    two = run(tmp, "fsdp_from_one", MODE="fsdp", RESUME=str(tmp / "single" / "ckpt" / "epoch=0-step=3.ckpt"))
    assert two[0]["global_step"] == 6
    assert_close(two[0]["state"], single[0]["state"])
    for k in two[0]["state"]:
        assert torch.equal(two[0]["state"][k], two[1]["state"][k]), k


def load_script():
    spec = importlib.util.spec_from_file_location("fsdp_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    os.environ.setdefault("REPO", REPO)
    spec.loader.exec_module(script)
    return script


def test_sharded_checkpoints_are_folders_of_shards_that_resume_anywhere(runs):
    tmp, fsdp, single = runs
    out = run(tmp, "sharded", MODE="fsdp", STATE_DICT_TYPE="sharded")
    for k, v in fsdp[0]["state"].items():  # the same training as with full checkpoints
        assert torch.equal(out[0]["state"][k], v), k
    folder = tmp / "sharded" / "ckpt"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=0-step=3.ckpt", "epoch=1-step=6.ckpt", "last.ckpt"]
    first = folder / "epoch=0-step=3.ckpt"
    assert sorted(p.name for p in first.iterdir()) == [".metadata", "__0_0.distcp", "__1_0.distcp", "meta.pt"]
    # two FSDP processes resume from it, each reading only its shards
    two = run(tmp, "sharded_resume", MODE="fsdp", STATE_DICT_TYPE="sharded", RESUME=str(first))
    assert two[0]["global_step"] == 6
    assert_close(two[0]["state"], single[0]["state"])
    # one process resumes from the same folder (weights, Adam state, progress)
    one = run(tmp, "one_from_sharded", MODE="single", RESUME=str(first))
    assert_close(one[0]["state"], single[0]["state"])
    model = load_script().Net.load_from_checkpoint(folder / "last.ckpt")
    for k, v in model.state_dict().items():
        assert torch.equal(v, out[0]["state"][k]), k
    # a folder from another model: one clear error on every rank, and nobody waits
    done = launch(tmp, "wrong", timeout=120, MODE="fsdp", HIDDEN="8", STATE_DICT_TYPE="sharded", RESUME=str(first))
    assert done.returncode != 0
    assert f"Checkpoint {first} could not be loaded into Net" in done.stdout + done.stderr


def test_activation_checkpointing_recomputes_and_changes_nothing_else(runs):
    tmp, fsdp, single = runs
    out = run(tmp, "recompute", MODE="fsdp", RECOMPUTE="1")
    for k, v in fsdp[0]["state"].items():
        torch.testing.assert_close(out[0]["state"][k], v, rtol=1e-6, atol=1e-7, msg=k)
    # each of the 12 training micro-batches ran both Linears' forward once more, in backward
    assert out[0]["linear_calls_in_fit"] - fsdp[0]["linear_calls_in_fit"] == 12 * 2


def test_empty_init_builds_on_meta_and_initialises_each_shard(tmp_path):
    out = run(tmp_path, "meta", MODE="fsdp", EMPTY_INIT="1")
    r0, r1 = out
    for k in out[0]["state"]:
        assert torch.equal(out[0]["state"][k], out[1]["state"][k]), k
        assert torch.isfinite(out[0]["state"][k]).all(), k
    assert out[0]["global_step"] == 6
    assert out[0]["val_loss"] < 1.2  # trained from real initial values (uninitialised memory gives ~1e30)
    assert torch.equal(out[0]["state"]["extra.marker"], torch.full((2,), 7.0))  # real values were not re-made


def test_a_failing_rank_ends_the_run_quickly_with_its_traceback(tmp_path):
    # "quickly": the other rank is ended, not left in a collective; a hang shows as the run's timeout
    done = launch(tmp_path, "fail", timeout=120, MODE="fsdp", FAIL_STEP="2")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "planted failure on rank 1 at step 2" in output
    # a sharded model cannot be saved by one process alone: OnExceptionCheckpoint says so and writes nothing
    assert "on_exception.ckpt was not written" in output
    assert not (tmp_path / "fail" / "on_exception").exists()


# ------------------------------------------------------------------ in one process, no process group
class Bare(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 1)
        self.offset = nn.Parameter(torch.zeros(1))  # no reset_parameters() on this module sets it

    def training_step(self, batch, batch_idx):
        return (self.layer(batch[0]) + self.offset).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.fixture
def clean_dist_env(monkeypatch):
    """No rank variables inside, none left behind (the launcher sets them for a run's later calls)."""
    for key in _DIST_ENV:
        monkeypatch.setenv(key, "")  # recorded first, so the undo removes what a run sets
        monkeypatch.delenv(key)


def test_meta_parameters_nobody_initialises_are_a_clear_error(tmp_path, clean_dist_env):
    trainer = pl.Trainer(accelerator="cpu", devices=1, strategy="fsdp", max_steps=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, default_root_dir=tmp_path)
    with trainer.init_module(empty_init=True):
        model = Bare()
    assert model.layer.weight.is_meta
    with pytest.raises(MisconfigurationException, match=r"\['offset'\].*reset_parameters\(\)"):
        trainer.fit(model, DataLoader(TensorDataset(torch.randn(4, 4)), batch_size=2))


@pytest.mark.parametrize("kwargs, match", [
    (dict(sharding_strategy="HYBRID_SHARD"), "sharding_strategy='HYBRID_SHARD' is not supported.*FULL_SHARD"),
    (dict(state_dict_type="local"), "use 'full'.*or 'sharded'"),
    (dict(auto_wrap_policy={"Linear"}), "not nn.Module classes"),
    (dict(auto_wrap_policy=3), "a set of module classes"),
    (dict(start_method="spawn"), "start_method='popen'"),
    (dict(limit_all_gathers=True), r"\['limit_all_gathers'\], which torch's fully_shard does not take"),
    (dict(mixed_precision="bf16"), "MixedPrecisionPolicy"),
    (dict(cpu_offload="yes"), "cpu_offload='yes'"),
])
def test_bad_fsdp_arguments_are_clear_errors(kwargs, match):
    with pytest.raises(MisconfigurationException, match=match):
        FSDPStrategy(**kwargs)


def test_torchs_fsdp1_arguments_translate():
    from functools import partial

    from torch.distributed.fsdp import CPUOffload, MixedPrecision, MixedPrecisionPolicy
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy, size_based_auto_wrap_policy

    s = FSDPStrategy(auto_wrap_policy=ModuleWrapPolicy({nn.Linear}), mixed_precision=MixedPrecision(param_dtype=torch.bfloat16),
                     cpu_offload=CPUOffload(offload_params=False), use_orig_params=True)
    assert s.auto_wrap_policy(nn.Linear(2, 2)) and not s.auto_wrap_policy(nn.ReLU())
    assert s.mixed_precision == MixedPrecisionPolicy(param_dtype=torch.bfloat16)
    assert s.cpu_offload is None and "use_orig_params" not in s.fully_shard_kwargs
    by_size = FSDPStrategy(auto_wrap_policy=partial(size_based_auto_wrap_policy, min_num_params=100)).auto_wrap_policy
    assert by_size(nn.Linear(10, 10)) and not by_size(nn.Linear(2, 2))


def test_strategy_names_and_user_built_strategies_get_the_trainers_hardware(clean_dist_env):
    assert isinstance(pl.Trainer(strategy="fsdp", accelerator="cpu", devices=2, logger=False).strategy, FSDPStrategy)
    with pytest.raises(MisconfigurationException, match="Did you mean 'fsdp'"):
        pl.Trainer(strategy="fdsp", accelerator="cpu", logger=False)
    trainer = pl.Trainer(strategy=DDPStrategy(find_unused_parameters=True), accelerator="cpu", devices=2,
                         num_nodes=1, precision="bf16-mixed", logger=False)
    s = trainer.strategy
    assert s.world_size == 2 and s.find_unused_parameters and s.launcher is not None
    assert trainer.precision == "bf16-mixed"
    fsdp = pl.Trainer(strategy=FSDPStrategy(auto_wrap_policy=nn.Linear, sharding_strategy="SHARD_GRAD_OP"),
                      accelerator="cpu", devices=2, logger=False).strategy
    assert fsdp.world_size == 2 and fsdp.auto_wrap_policy(nn.Linear(1, 1)) and not fsdp.auto_wrap_policy(nn.ReLU())
    # one strategy object in a second Trainer takes that Trainer's devices and precision
    shared = DDPStrategy()
    assert pl.Trainer(strategy=shared, accelerator="cpu", devices=2, precision="bf16-true", logger=False).world_size == 2
    from runtime.accelerators import CPUAccelerator

    second = pl.Trainer(strategy=shared, accelerator=CPUAccelerator(oversubscribe=True), devices=3, logger=False)
    assert second.world_size == 3 and second.precision == "32-true"
    assert FSDPStrategy(cpu_offload=None).cpu_offload is None  # Lightning's default
    with pytest.raises(MisconfigurationException, match="SingleDeviceStrategy runs one process"):
        pl.Trainer(strategy=SingleDeviceStrategy(), accelerator="cpu", devices=2, logger=False)
    from runtime.precision import select_precision

    with pytest.raises(MisconfigurationException, match="set precision in one place"):
        pl.Trainer(strategy=DDPStrategy(precision_plugin=select_precision("bf16-mixed", "cpu")), precision="64-true",
                   accelerator="cpu", devices=2, logger=False)


def test_a_user_built_single_device_strategy_trains(tmp_path):
    trainer = pl.Trainer(strategy=SingleDeviceStrategy(device="cpu"), max_steps=2, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, default_root_dir=tmp_path)
    model = Bare()
    before = model.layer.weight.detach().clone()
    trainer.fit(model, DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=2))
    assert trainer.global_step == 2 and not torch.equal(before, model.layer.weight)


def test_folders_that_are_not_whole_sharded_checkpoints_are_clear_errors(tmp_path):
    from runtime.checkpoint.io import CorruptCheckpointError

    plain = tmp_path / "plain.ckpt"
    plain.mkdir()
    with pytest.raises(CorruptCheckpointError, match="is a folder but not a sharded checkpoint"):
        Bare.load_from_checkpoint(plain)
    half = tmp_path / "half.ckpt"
    half.mkdir()
    (half / ".metadata").write_bytes(b"")
    with pytest.raises(CorruptCheckpointError, match="without its meta.pt"):
        Bare.load_from_checkpoint(half)
    assert sorted(p.name for p in half.iterdir()) == [".metadata"]  # nothing touched
