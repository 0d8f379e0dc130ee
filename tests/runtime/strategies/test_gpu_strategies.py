"""DDP and FSDP on a CUDA device with NCCL (one GPU: a world of one process, which still runs NCCL's
process group, the CUDA device mesh and the checkpoint gathers). Skipped without a GPU; run by
bench/gpu_check.sh on the device machine."""
import subprocess
import sys

import pytest
import torch

from tests.runtime.strategies import test_ddp, test_fsdp

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_fsdp_on_a_gpu_trains_like_the_cpu_and_saves_both_checkpoint_kinds(tmp_path):
    cpu = test_fsdp.run(tmp_path, "cpu", MODE="single")
    for kind in ("full", "sharded"):
        gpu = test_fsdp.run(tmp_path, f"gpu_{kind}", MODE="fsdp", DEVICES="1", ACCELERATOR="gpu", STATE_DICT_TYPE=kind)
        for k, v in cpu[0]["state"].items():
            torch.testing.assert_close(gpu[0]["state"][k], v, rtol=1e-4, atol=1e-5, msg=k)
        last = tmp_path / f"gpu_{kind}" / "ckpt" / "last.ckpt"
        model = test_fsdp.load_script().Net.load_from_checkpoint(last, map_location="cpu")
        for k, v in model.state_dict().items():
            torch.testing.assert_close(v, gpu[0]["state"][k], msg=k)


def test_ddp_on_a_gpu_uses_nccl(tmp_path):
    done = subprocess.run([sys.executable, "-c", (
        "import os, sys; sys.path.insert(0, os.environ['REPO'])\n"
        "import torch, runtime as pl; from runtime.demos import BoringModel\n"
        "t = pl.Trainer(accelerator='gpu', devices=1, strategy='ddp', max_steps=3, logger=False, enable_progress_bar=False)\n"
        "t.fit(BoringModel())\n"
        "import torch.distributed as dist; print('backend', dist.get_backend(), 'device', next(t.lightning_module.parameters()).device)\n"
    )], env=test_ddp.env_for(tmp_path, "gpu_ddp"), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "backend nccl device cuda:0" in done.stdout
