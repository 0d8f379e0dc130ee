"""DeepSpeedStrategy: the error without deepspeed, the Trainer's flags turned into DeepSpeed's config (no
deepspeed needed), safe reading of checkpoint files; and, where deepspeed is installed, real ZeRO 1/2/3
training on its CPU accelerator against one plain process, with a checkpoint folder that resumes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import runtime as pl
from runtime.strategies import ParallelStrategy
from runtime.strategies import deepspeed as ds
from runtime.strategies.deepspeed import DeepSpeedPrecision, DeepSpeedStrategy, build_config, finish_config, load_config
from runtime.utilities.exceptions import MisconfigurationException

REPO = str(Path(__file__).resolve().parents[3])
SCRIPT = Path(__file__).with_name("deepspeed_script.py")
HAS_DEEPSPEED = ds.deepspeed_installed()


@pytest.fixture
def installed(monkeypatch):
    """Build strategies as if deepspeed were installed: the constructor checks, it does not import it."""
    monkeypatch.setattr(ds, "deepspeed_installed", lambda: True)


# ---------------------------------------------------------------- without deepspeed
def test_without_deepspeed_building_it_says_how_to_install(monkeypatch):
    monkeypatch.setattr(ds, "deepspeed_installed", lambda: False)
    assert issubclass(DeepSpeedStrategy, ParallelStrategy)
    with pytest.raises(MisconfigurationException, match=r"pip install deepspeed") as err:
        DeepSpeedStrategy(stage=3)
    assert "strategy='fsdp'" in str(err.value)
    with pytest.raises(MisconfigurationException, match=r"pip install deepspeed"):
        pl.Trainer(strategy="deepspeed_stage_2", accelerator="cpu", logger=False)


def test_import_runtime_does_not_import_deepspeed():
    code = ("import sys, runtime; import runtime.strategies.deepspeed, runtime.utilities.deepspeed; "
            "from runtime.strategies import DeepSpeedStrategy; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'deepspeed'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": REPO},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name, stage, optimizer, params", [
    ("deepspeed", 2, False, False),
    ("deepspeed_stage_1", 1, False, False),
    ("deepspeed_stage_2", 2, False, False),
    ("deepspeed_stage_2_offload", 2, True, False),
    ("deepspeed_stage_3", 3, False, False),
    ("deepspeed_stage_3_offload", 3, True, True),
])
def test_lightning_names_select_the_stage_and_offload(installed, name, stage, optimizer, params):
    trainer = pl.Trainer(strategy=name, accelerator="cpu", devices=1, logger=False)
    strategy = trainer.strategy
    assert isinstance(strategy, DeepSpeedStrategy)
    zero = strategy.config["zero_optimization"]
    assert zero["stage"] == stage and strategy.zero_stage_3 == (stage == 3)
    assert ("offload_optimizer" in zero) == optimizer and ("offload_param" in zero) == params
    if optimizer:
        assert zero["offload_optimizer"]["device"] == "cpu"


def test_nvme_offload_name_points_every_offload_at_nvme(installed):
    strategy = pl.Trainer(strategy="deepspeed_stage_3_offload_nvme", accelerator="cpu", logger=False).strategy
    zero = strategy.config["zero_optimization"]
    assert zero["offload_optimizer"]["device"] == zero["offload_param"]["device"] == "nvme"
    assert strategy.remote_device == "nvme"


def test_trainer_flags_go_into_the_config(installed):
    trainer = pl.Trainer(strategy="deepspeed_stage_2_offload", accelerator="cpu", devices=1, precision="bf16-mixed",
                         accumulate_grad_batches=4, gradient_clip_val=0.5, logger=False)
    strategy = trainer.strategy
    assert isinstance(strategy.precision_plugin, DeepSpeedPrecision) and trainer.precision == "bf16-mixed"
    assert not strategy.precision_plugin.autocasts  # the engine holds bf16 weights: no autocast on top
    config = strategy.trainer_config()
    assert config["gradient_accumulation_steps"] == 4
    assert config["gradient_clipping"] == 0.5
    assert config["bf16"] == {"enabled": True} and "fp16" not in config
    assert config["train_micro_batch_size_per_gpu"] == 1  # no loader yet
    assert config["zero_optimization"]["offload_optimizer"]["device"] == "cpu"
    assert "gradient_accumulation_steps" not in strategy.config  # the strategy's own config is left as it was
    batch = strategy.precision_plugin.convert_input({"x": torch.ones(2), "i": torch.ones(2, dtype=torch.long)})
    assert batch["x"].dtype == torch.bfloat16 and batch["i"].dtype == torch.long


def test_fp16_settings_and_batch_size():
    config = finish_config(build_config(stage=1, logging_batch_size_per_gpu=8), "16-mixed", loss_scale=128,
                           initial_scale_power=10, loss_scale_window=50, hysteresis=3, min_loss_scale=2, batch_size=32)
    assert config["fp16"] == {"enabled": True, "loss_scale": 128, "initial_scale_power": 10, "loss_scale_window": 50,
                              "hysteresis": 3, "min_loss_scale": 2}
    assert config["train_micro_batch_size_per_gpu"] == 8  # logging_batch_size_per_gpu wins over the loader's
    assert finish_config(build_config(), "32-true", batch_size=32)["train_micro_batch_size_per_gpu"] == 32
    assert "fp16" not in finish_config(build_config(), "32-true") and "bf16" not in finish_config(build_config(), "32-true")
    # a precision section of the user's own is kept as written
    assert finish_config({"fp16": {"enabled": True, "loss_scale": 1}}, "16-mixed")["fp16"] == {"enabled": True, "loss_scale": 1}


def test_zero_optimization_off_leaves_no_zero_section():
    config = build_config(zero_optimization=False)
    assert "zero_optimization" not in config and "activation_checkpointing" in config


@pytest.mark.parametrize("call, match", [
    (lambda: finish_config({"gradient_accumulation_steps": 2}, "32-true", 4), "accumulate_grad_batches"),
    (lambda: finish_config({}, "32-true", gradient_clip_val=1.0, gradient_clip_algorithm="value"), "global norm"),
    (lambda: finish_config({}, "64-true"), "64-true"),
    (lambda: build_config(stage=4), "ZeRO stages"),
    (lambda: build_config(stage=2, offload_parameters=True), "stage 3"),
    (lambda: build_config(offload_optimizer_device="disk"), "'cpu' or 'nvme'"),
])
def test_bad_settings_say_what_to_change(call, match):
    with pytest.raises(MisconfigurationException, match=match):
        call()


def test_config_from_a_dict_a_json_file_or_the_environment(installed, tmp_path, monkeypatch):
    user = {"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": 2}
    assert DeepSpeedStrategy(config=user, stage=1).config == user  # a config wins over the ZeRO arguments
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(user))
    assert DeepSpeedStrategy(config=str(path)).config == user
    monkeypatch.setenv(ds.CONFIG_ENV_VAR, str(path))
    assert DeepSpeedStrategy().zero_stage_3
    monkeypatch.delenv(ds.CONFIG_ENV_VAR)
    with pytest.raises(MisconfigurationException, match="does not exist"):
        load_config(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{'stage': 2}")
    with pytest.raises(MisconfigurationException, match="not valid JSON"):
        load_config(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(MisconfigurationException, match="not a JSON object"):
        load_config(tmp_path / "list.json")


def test_clipping_by_value_is_refused_when_the_trainer_is_built(installed):
    trainer = pl.Trainer(strategy="deepspeed", accelerator="cpu", gradient_clip_val=1.0, gradient_clip_algorithm="value", logger=False)
    with pytest.raises(MisconfigurationException, match="global norm"):
        trainer.strategy.trainer_config()


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_checkpoint_files_are_read_without_running_code(tmp_path):
    """DeepSpeed's own reader unpickles anything; the strategy's loads tensors and plain data only."""
    from runtime.checkpoint.files import UnsafeCheckpointError

    class Inner:
        def load(self, path, map_location=None):
            return torch.load(path, map_location=map_location, weights_only=False)

    safe = ds._SafeLoading(Inner())
    torch.save({"module": {"w": torch.ones(2)}, "epoch": 1}, tmp_path / "ok.pt")
    assert torch.equal(safe.load(str(tmp_path / "ok.pt"))["module"]["w"], torch.ones(2))
    torch.save({"module": _Payload()}, tmp_path / "evil.pt")
    with pytest.raises(UnsafeCheckpointError, match="could run code"):
        safe.load(str(tmp_path / "evil.pt"))


def test_the_converter_reads_files_without_running_code_and_names_a_wrong_folder(tmp_path):
    from runtime.utilities.deepspeed import convert_zero_checkpoint_to_fp32_state_dict, safe_load

    torch.save({"w": torch.ones(1)}, tmp_path / "ok.pt")
    assert torch.equal(safe_load(tmp_path / "ok.pt", mmap=True)["w"], torch.ones(1))
    torch.save({"module": _Payload()}, tmp_path / "evil.pt")
    with pytest.raises(Exception, match="Weights only load failed"):
        safe_load(tmp_path / "evil.pt")
    with pytest.raises(FileNotFoundError, match="not a DeepSpeed checkpoint folder"):
        convert_zero_checkpoint_to_fp32_state_dict(tmp_path, tmp_path / "out.ckpt")


def test_a_deepspeed_folder_given_to_a_plain_load_says_how_to_convert_it(tmp_path):
    from runtime.checkpoint.io import load_checkpoint_file

    folder = tmp_path / "epoch=0-step=4.ckpt"
    (folder / "checkpoint").mkdir(parents=True)
    (folder / "latest").write_text("checkpoint")
    with pytest.raises(Exception, match="convert_zero_checkpoint_to_fp32_state_dict"):
        load_checkpoint_file(folder)


def test_a_file_that_is_not_a_deepspeed_folder_is_named(installed, tmp_path):
    strategy = pl.Trainer(strategy="deepspeed", accelerator="cpu", logger=False).strategy
    torch.save({"state_dict": {}}, tmp_path / "plain.ckpt")
    assert not ds.is_deepspeed_checkpoint(tmp_path / "plain.ckpt")
    with pytest.raises(MisconfigurationException, match="load_full_weights=True"):
        strategy.load_checkpoint(str(tmp_path / "plain.ckpt"))


# ---------------------------------------------------------------- with deepspeed: real runs on the CPU
_DIST_ENV = ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_PORT", "MASTER_ADDR", "NODE_RANK", "GROUP_RANK")
needs_deepspeed = pytest.mark.skipif(
    not HAS_DEEPSPEED, reason="deepspeed is not installed (pip install deepspeed); its config translation is tested above")


def launch(root: Path, **extra: str) -> None:
    """deepspeed_script.py in a clean environment (it starts its other rank itself)."""
    env = {k: v for k, v in os.environ.items() if k not in _DIST_ENV}
    env.update(PYTHONPATH=REPO, ROOT=str(root), DS_ACCELERATOR=extra.pop("DS_ACCELERATOR", "cpu"), **extra)
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-4000:]


def check_suite(out: dict, tol: float = 1e-6, resume_tol: float = 1e-6) -> None:
    """``tol``: DeepSpeed against one plain process; ``resume_tol``: resumed against straight through."""
    assert out["engine"] == "DeepSpeedEngine" and out["steps"] == [6, 6]
    assert out["lr"] == [pytest.approx(0.05 * 0.5 ** 3)]  # the Trainer stepped the StepLR schedule
    for key, ref in out["single"].items():  # accumulation 2 and clipping 0.5, as one plain process does them
        torch.testing.assert_close(out["zero"][key], ref, rtol=max(tol, 1e-5), atol=tol)
        # 4 steps, then 2 more from the checkpoint folder
        torch.testing.assert_close(out["resumed"][key], out["zero"][key], rtol=max(resume_tol, 1e-5), atol=resume_tol)
    assert out["files"] and all(name.endswith("_states.pt") for name in out["files"])
    assert out["client"] == {"global_step": 4, "has_state_dict": False, "has_schedulers": True}
    assert out["resumed_step"] == 6 and out["val_loss"] > 0
    # the folder evaluated by a new Trainer, and converted to one file that any strategy loads: the 4-step weights
    assert out["fresh_val"] == pytest.approx(out["first_val"], rel=max(resume_tol, 1e-6))
    assert out["converted_step"] == 4
    for key, ref in out["first"].items():  # float32 master weights; the module holds them rounded to its dtype
        converted = out["converted"][key].to(getattr(torch, out["dtype"].removeprefix("torch."))).float()
        torch.testing.assert_close(converted, ref, rtol=max(resume_tol, 1e-5), atol=resume_tol)
    for key, ref in out["manual_single"].items():  # manual optimization: manual_backward and opt.step() through the engine
        torch.testing.assert_close(out["manual_zero"][key], ref, rtol=max(tol, 1e-5), atol=tol)


@pytest.mark.slow
@needs_deepspeed
@pytest.mark.parametrize("stage", [1, 2, 3])
def test_zero_trains_like_one_process_and_resumes_from_its_folder(tmp_path, stage):
    launch(tmp_path, STAGE=str(stage))
    check_suite(torch.load(tmp_path / "out.pt", weights_only=True))


@pytest.mark.slow
@needs_deepspeed
def test_bf16_on_the_cpu_engine_holds_bf16_and_resumes_exactly(tmp_path):
    launch(tmp_path, STAGE="2", PRECISION="bf16-mixed")
    out = torch.load(tmp_path / "out.pt", weights_only=True)
    assert out["dtype"] == "torch.bfloat16"  # inputs are cast to it (on the CPU too), or the forward would fail
    check_suite(out, tol=0.1, resume_tol=1e-6)  # against bf16 autocast: Adam's steps (lr 0.05) differ near zero gradients


@pytest.mark.slow
@needs_deepspeed
@pytest.mark.parametrize("stage", [2, 3])
def test_two_processes_each_hold_half_and_train_like_one_with_the_global_batch(tmp_path, stage):
    launch(tmp_path / "two", STAGE=str(stage), MODE="two")
    launch(tmp_path / "one", MODE="single4")
    r0, r1 = (torch.load(tmp_path / "two" / f"out_{r}.pt", weights_only=True) for r in (0, 1))
    ref = torch.load(tmp_path / "one" / "out.pt", weights_only=True)["weights"]
    total = sum(v.numel() for v in ref.values())
    assert r0["world"] == 2 and r0["step"] == r1["step"] == 4
    assert sum(r0["partition"]) < total and sum(r0["partition"]) + sum(r1["partition"]) >= total  # each rank a part
    for key in ref:
        torch.testing.assert_close(r0["weights"][key], ref[key], rtol=1e-5, atol=1e-6)
        assert torch.equal(r0["weights"][key], r1["weights"][key]), key
    folder = Path(r0["folder"])
    assert {p.name for p in (folder / "checkpoint").iterdir() if "optim_states" in p.name} == {
        "zero_pp_rank_0_mp_rank_00_optim_states.pt", "zero_pp_rank_1_mp_rank_00_optim_states.pt"}
