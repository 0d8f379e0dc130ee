"""ModelCheckpoint(save_on_exception=True) keeps the state a failed run reached."""
import pytest
import torch

from runtime.callbacks import ModelCheckpoint
from runtime.demos import BoringModel
from tests.runtime.helpers import make_trainer


class FailsAtStep3(BoringModel):
    def on_train_batch_start(self, batch, batch_idx):
        if self.trainer.global_step == 3:
            raise RuntimeError("boom")


@pytest.mark.parametrize("save_on_exception", [True, False])
def test_checkpoint_written_when_the_run_fails(tmp_path, save_on_exception):
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", save_on_exception=save_on_exception, save_top_k=-1,
                           every_n_epochs=10)
    trainer = make_trainer(tmp_path, max_epochs=1, limit_val_batches=0, callbacks=[ckpt], enable_checkpointing=True)
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(FailsAtStep3())
    files = sorted(p.name for p in (tmp_path / "ck").glob("*.ckpt")) if (tmp_path / "ck").exists() else []
    if save_on_exception:
        assert files == ["epoch=0-step=3.ckpt"]
        assert torch.load(tmp_path / "ck" / files[0], weights_only=False)["global_step"] == 3
    else:
        assert files == []
