"""Run by test_deepspeed.py in its own process (DeepSpeed keeps global state): ZeRO stage $STAGE on
DeepSpeed's CPU accelerator, one process; the same training on one plain process; a run of 4 steps
resumed from its checkpoint folder to 6. Writes what it saw to $ROOT/out.pt."""
import os

import torch

import runtime as pl
from runtime.demos import BoringModel
from runtime.strategies import deepspeed as ds

ROOT = os.environ["ROOT"]
STAGE = int(os.environ["STAGE"])


def fit(strategy: str, steps: int, root: str, ckpt: str | None = None):
    torch.manual_seed(0)
    model = BoringModel()
    trainer = pl.Trainer(strategy=strategy, accelerator="cpu", devices=1, max_steps=steps, limit_train_batches=8,
                         limit_val_batches=2, accumulate_grad_batches=2, gradient_clip_val=0.5, logger=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=os.path.join(ROOT, root))
    trainer.fit(model, ckpt_path=ckpt)
    return trainer, model


def weights(model) -> dict:
    if STAGE == 3:  # partitioned: gather to read
        import deepspeed

        with deepspeed.zero.GatheredParameters(list(model.parameters())):
            return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


_, single = fit("auto", 6, "single")
trainer, zero = fit(f"deepspeed_stage_{STAGE}", 6, "zero")
first, _ = fit(f"deepspeed_stage_{STAGE}", 4, "first")
folder = first.checkpoint_callback.best_model_path
client = ds._SafeLoading(None).load(ds._model_file(folder), map_location="cpu")
resumed_trainer, resumed = fit(f"deepspeed_stage_{STAGE}", 6, "resumed", ckpt=folder)
torch.save({
    "single": weights(single), "zero": weights(zero), "resumed": weights(resumed),
    "engine": type(trainer.strategy.deepspeed_engine).__name__,
    "steps": [trainer.global_step, trainer.strategy.deepspeed_engine.global_steps],
    "files": sorted(os.listdir(os.path.join(folder, "checkpoint"))),
    "client": {"global_step": client["global_step"], **({"state_dict": 1} if "state_dict" in client else {})},
    "resumed_step": resumed_trainer.global_step,
}, os.path.join(ROOT, "out.pt"))
