"""How fixtures/lightning_2_6.ckpt was made: run with PyTorch Lightning installed (2.6.6 here).

    python tests/runtime/checkpoint/make_lightning_fixture.py tests/runtime/checkpoint/fixtures/lightning_2_6.ckpt

The module and data come from fixture_model.py, which test_compat.py builds on the runtime, so the runtime can
load the file by class. Run as a script: this folder is on sys.path, so ``fixture_model`` imports as it is.
"""
import sys

import pytorch_lightning as L

from fixture_model import fixture_model_class, lightning_trainer, loader

if __name__ == "__main__":
    data = loader()  # seeds, then draws the data; the model's weights are drawn after
    trainer = lightning_trainer(L, max_epochs=2)
    trainer.fit(fixture_model_class(L)(hidden=5), data)
    trainer.save_checkpoint(sys.argv[1])
