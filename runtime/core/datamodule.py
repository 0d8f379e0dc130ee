"""LightningDataModule: the data side of a project (download, split, loaders) in one reusable class."""
from typing import Any

from torch.utils.data import DataLoader, Dataset

from runtime.core.hooks import CheckpointHooks, DataHooks
from runtime.core.hparams import HyperparametersMixin


class LightningDataModule(HyperparametersMixin, DataHooks, CheckpointHooks):
    """Subclass it and define ``prepare_data``, ``setup(stage)`` and the ``*_dataloader`` methods."""

    name: str | None = None
    # a datamodule's hyperparameters sit beside the module's in a checkpoint, under their own keys
    CHECKPOINT_HYPER_PARAMS_KEY = "datamodule_hyper_parameters"
    CHECKPOINT_HYPER_PARAMS_NAME = "datamodule_hparams_name"
    CHECKPOINT_HYPER_PARAMS_TYPE = "datamodule_hparams_type"

    def __init__(self) -> None:
        super().__init__()
        self.trainer = None

    @classmethod
    def from_datasets(cls, train_dataset: Dataset | None = None, val_dataset: Dataset | None = None,
                      test_dataset: Dataset | None = None, predict_dataset: Dataset | None = None,
                      batch_size: int = 1, num_workers: int = 0, **loader_kwargs: Any) -> "LightningDataModule":
        """A datamodule over ready-made datasets (the train loader shuffles)."""
        dm = cls()

        def loader(ds, shuffle):
            return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers, **loader_kwargs)

        if train_dataset is not None:
            dm.train_dataloader = lambda: loader(train_dataset, True)
        if val_dataset is not None:
            dm.val_dataloader = lambda: loader(val_dataset, False)
        if test_dataset is not None:
            dm.test_dataloader = lambda: loader(test_dataset, False)
        if predict_dataset is not None:
            dm.predict_dataloader = lambda: loader(predict_dataset, False)
        return dm

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...

    def on_exception(self, exception: BaseException) -> None: ...

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, hparams_file=None, weights_only: bool | None = None, **kwargs: Any):
        """Build the datamodule from a checkpoint's saved hyperparameters (overridable by ``kwargs``) and its state."""
        from runtime.checkpoint.io import load_checkpoint_file
        from runtime.core.saving import instantiate_from_checkpoint

        checkpoint = load_checkpoint_file(checkpoint_path, map_location=map_location, weights_only=weights_only)
        dm = instantiate_from_checkpoint(cls, checkpoint, hparams_file, kwargs)
        if cls.__qualname__ in checkpoint:
            dm.load_state_dict(checkpoint[cls.__qualname__])
        return dm
