#!/usr/bin/env bash
# One call on a GPU machine (the device tool): the CUDA tests, then the CUDA benchmark.
# That machine cannot install anything; its python3 already has torch, pytest, pyyaml and tensorboard,
# so the project runs from the checkout (PYTHONPATH). Usage from the repo root: bash bench/gpu_check.sh
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
python3 -m pytest -q -p no:cacheprovider tests/runtime/test_precision_devices.py 2>&1 | tail -5
python3 bench/cuda_steady_state.py --rounds 5 --steps 200
# DDP and FSDP on the GPU with NCCL (a world of one process), both checkpoint kinds
python3 -m pytest -q -p no:cacheprovider tests/runtime/strategies/test_gpu_strategies.py 2>&1 | tail -5
# DeepSpeed ZeRO 2 and 3 on one GPU, bf16, a few steps, save + resume from the checkpoint folder. The machine
# cannot install: bring deepspeed in the tree, made on the CPU machine and passed with the run tool's carry:
#   DS_BUILD_OPS=0 pip install --target .deepspeed-site --no-deps deepspeed hjson ninja py-cpuinfo msgpack einops pydantic pydantic-core annotated-types typing-inspection
if [ -d .deepspeed-site ]; then export PYTHONPATH="$PYTHONPATH:$PWD/.deepspeed-site"; fi
python3 -c "import deepspeed; print('deepspeed', deepspeed.__version__)" 2>/dev/null || echo "deepspeed: not importable here; the DeepSpeed GPU check is skipped (see above)"
python3 -m pytest -q -rs -p no:cacheprovider tests/runtime/strategies/test_gpu_deepspeed.py 2>&1 | tail -5
