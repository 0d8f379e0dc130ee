"""DeepSpeed ZeRO 2 and 3 on one CUDA GPU in bf16 (NCCL, DeepSpeed's CUDA accelerator): a few steps against one
plain bf16-mixed process, a checkpoint folder saved and resumed. Skipped without a GPU or without deepspeed;
run by bench/gpu_check.sh on the device machine."""
import pytest
import torch

from runtime.strategies.deepspeed import deepspeed_installed
from tests.runtime.strategies.test_deepspeed import check_suite, launch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.skipif(not deepspeed_installed(), reason="deepspeed is not installed (bench/gpu_check.sh says how to bring it)"),
]


@pytest.mark.parametrize("stage", [2, 3])
def test_zero_in_bf16_on_a_gpu_trains_saves_and_resumes(tmp_path, stage):
    launch(tmp_path, STAGE=str(stage), ACCELERATOR="gpu", PRECISION="bf16-mixed", DS_ACCELERATOR="cuda")
    out = torch.load(tmp_path / "out.pt", weights_only=True)
    assert out["dtype"] == "torch.bfloat16"  # the engine holds the module in bf16 (fp32 master weights in the optimizer)
    # bf16 weights against bf16 autocast: Adam's normalised steps (lr 0.05) differ where a gradient is near zero;
    # resuming repeats the same bf16 arithmetic
    check_suite(out, tol=0.1, resume_tol=1e-3)


def test_zero3_with_cpu_offload_on_a_gpu_trains_saves_and_resumes(tmp_path):
    """strategy="deepspeed_stage_3_offload": optimizer state and parameters in CPU memory, DeepSpeedCPUAdam
    (DeepSpeed builds its CPU Adam op on first use)."""
    launch(tmp_path, STAGE="3", OFFLOAD="1", ACCELERATOR="gpu", PRECISION="bf16-mixed", DS_ACCELERATOR="cuda")
    check_suite(torch.load(tmp_path / "out.pt", weights_only=True), tol=0.1, resume_tol=1e-3)
