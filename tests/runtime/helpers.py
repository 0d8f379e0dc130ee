"""Shared helpers for the runtime tests.

- ``make_trainer``: a quiet, fast Trainer (no logger, checkpoints, progress bar or summary; tmp dir as root).
- ``recording_model`` / ``RecordingCallback`` / ``recording_datamodule``: record every hook call, in order,
  into one shared list (entries look like ``"training_step"``, ``"Callback.on_fit_start"``, ``"dm.setup:fit"``).
  A hook is recorded when it *returns*, exactly like Lightning's own ``tests/models/test_hooks.py``, so a hook
  that runs others inside it (``optimizer_step`` runs the closure: training_step .. on_after_backward) is
  listed after them.
- ``bare_module_class`` / ``ConfModel``: a LightningModule with only the hooks a test names; a BoringModel whose
  ``configure_optimizers`` returns what a given function builds.
- ``RecordingLogger``: a Logger that keeps every ``log_metrics`` call.
- ``expect_deprecation``: assert that a block emitted a deprecation warning.
"""
import contextlib
import re
import warnings

import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from runtime.demos.boring_classes import BoringDataModule, BoringModel, RandomDataset
from runtime.loggers import Logger

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)


def make_trainer(tmp_path, **kwargs):
    """A Trainer for tests: one epoch, nothing written, nothing printed, unless the test says otherwise."""
    opts = dict(default_root_dir=str(tmp_path), max_epochs=1, **QUIET)
    opts.update(kwargs)
    return pl.Trainer(**opts)


def random_loader(length=8, batch_size=2, size=32, shuffle=False):
    """A DataLoader over BoringModel-shaped data (tensors of `size` features)."""
    return DataLoader(RandomDataset(size, length), batch_size=batch_size, shuffle=shuffle)


def xy_loader(n=16, batch_size=4, in_features=32, out_features=2, seed=0, shuffle=False):
    """A DataLoader of (x, y) pairs, deterministic for a given seed."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_features, generator=g)
    y = torch.randn(n, out_features, generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


# --------------------------------------------------------------------------------------------------------------
# small modules and a logger
# --------------------------------------------------------------------------------------------------------------
class _LinearModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(32, 2)

    def forward(self, x):
        return self.layer(x)


def _training_step(self, batch, batch_idx):
    return self(batch).sum()


def _configure_optimizers(self):
    return torch.optim.SGD(self.parameters(), lr=0.1)


_BARE_HOOKS = {"training_step": _training_step, "configure_optimizers": _configure_optimizers}


def bare_module_class(*hooks):
    """A LightningModule class with one ``Linear(32, 2)`` layer, ``forward``, and of ``training_step``
    (``self(batch).sum()``) and ``configure_optimizers`` (SGD, lr=0.1) only those named: for tests of what a
    module may leave out, and as a base that defines nothing a test does not see."""
    return type("BareModule", (_LinearModule,), {"__module__": __name__, **{h: _BARE_HOOKS[h] for h in hooks}})


class ConfModel(BoringModel):
    """A BoringModel whose ``configure_optimizers`` returns ``conf(self)``."""

    def __init__(self, conf):
        super().__init__()
        self.conf = conf

    def configure_optimizers(self):
        return self.conf(self)


class RecordingLogger(Logger):
    """Keeps every ``log_metrics`` call as ``(step, {name: float})`` in ``calls``."""

    def __init__(self):
        super().__init__()
        self.calls = []

    @property
    def name(self):
        return "rec"

    @property
    def version(self):
        return 0

    def log_metrics(self, metrics, step=None):
        self.calls.append((step, {k: float(v) for k, v in metrics.items()}))

    def log_hyperparams(self, params, *args, **kwargs):
        pass

    def keys(self):
        return {k for _, m in self.calls for k in m}

    def values(self, key):
        return [m[key] for _, m in self.calls if key in m]


# --------------------------------------------------------------------------------------------------------------
# hook recording
# --------------------------------------------------------------------------------------------------------------
MODULE_HOOKS = [
    "configure_callbacks", "prepare_data", "setup", "configure_model", "configure_optimizers",
    "on_fit_start", "on_fit_end", "on_train_start", "on_train_end",
    "on_validation_start", "on_validation_end", "on_test_start", "on_test_end",
    "on_predict_start", "on_predict_end",
    "on_train_epoch_start", "on_train_epoch_end", "on_validation_epoch_start", "on_validation_epoch_end",
    "on_test_epoch_start", "on_test_epoch_end", "on_predict_epoch_start", "on_predict_epoch_end",
    "on_train_batch_start", "on_train_batch_end", "on_validation_batch_start", "on_validation_batch_end",
    "on_test_batch_start", "on_test_batch_end", "on_predict_batch_start", "on_predict_batch_end",
    "on_validation_model_zero_grad", "on_validation_model_eval", "on_validation_model_train",
    "on_test_model_eval", "on_test_model_train", "on_predict_model_eval",
    "on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer",
    "training_step", "validation_step", "test_step", "predict_step",
    "on_before_zero_grad", "optimizer_zero_grad", "on_before_backward", "backward", "on_after_backward",
    "on_before_optimizer_step", "configure_gradient_clipping", "optimizer_step", "lr_scheduler_step",
    "train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader",
    "on_save_checkpoint", "on_load_checkpoint", "teardown",
]

CALLBACK_HOOKS = [
    "setup", "teardown", "on_fit_start", "on_fit_end", "on_sanity_check_start", "on_sanity_check_end",
    "on_train_batch_start", "on_train_batch_end", "on_train_epoch_start", "on_train_epoch_end",
    "on_validation_epoch_start", "on_validation_epoch_end", "on_test_epoch_start", "on_test_epoch_end",
    "on_predict_epoch_start", "on_predict_epoch_end",
    "on_validation_batch_start", "on_validation_batch_end", "on_test_batch_start", "on_test_batch_end",
    "on_predict_batch_start", "on_predict_batch_end",
    "on_train_start", "on_train_end", "on_validation_start", "on_validation_end",
    "on_test_start", "on_test_end", "on_predict_start", "on_predict_end",
    "on_exception", "state_dict", "load_state_dict", "on_save_checkpoint", "on_load_checkpoint",
    "on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad",
]

DATAMODULE_HOOKS = [
    "prepare_data", "setup", "teardown", "train_dataloader", "val_dataloader", "test_dataloader",
    "predict_dataloader", "state_dict", "load_state_dict",
]


def _entry(prefix, name, args, kwargs):
    if name in ("setup", "teardown"):
        stage = kwargs.get("stage", args[-1] if args else None)
        stage = getattr(stage, "value", stage)
        return f"{prefix}{name}:{stage}"
    return f"{prefix}{name}"


def _recording_subclass(base, hooks, prefix):
    cls = type(f"Recording{base.__name__}", (base,), {"__module__": __name__})

    def make(name):
        def hook(self, *args, **kwargs):
            out = getattr(super(cls, self), name)(*args, **kwargs)
            self.called.append(_entry(prefix, name, args, kwargs))
            return out

        hook.__name__ = name
        hook.__qualname__ = f"{cls.__name__}.{name}"
        return hook

    for name in hooks:
        setattr(cls, name, make(name))
    return cls


_MODEL_CLASSES = {}


def recording_model(called, base=BoringModel):
    """An instance of ``base`` (a LightningModule class) that appends every hook call to ``called``."""
    if base not in _MODEL_CLASSES:
        _MODEL_CLASSES[base] = _recording_subclass(base, MODULE_HOOKS, "")
    model = _MODEL_CLASSES[base]()
    model.called = called
    return model


_CALLBACK_CLASS = None


def recording_callback(called):
    """A Callback that appends ``"Callback.<hook>"`` for each hook it receives."""
    global _CALLBACK_CLASS
    if _CALLBACK_CLASS is None:
        _CALLBACK_CLASS = _recording_subclass(pl.Callback, CALLBACK_HOOKS, "Callback.")
    cb = _CALLBACK_CLASS()
    cb.called = called
    return cb


_DM_CLASSES = {}


def recording_datamodule(called, base=BoringDataModule):
    if base not in _DM_CLASSES:
        _DM_CLASSES[base] = _recording_subclass(base, DATAMODULE_HOOKS, "dm.")
    dm = _DM_CLASSES[base]()
    dm.called = called
    return dm


# --------------------------------------------------------------------------------------------------------------
# warnings
# --------------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def expect_deprecation(match=None):
    """Assert the block emits a deprecation warning (DeprecationWarning/FutureWarning, or a message saying so),
    optionally one whose message matches ``match`` (case-insensitive regex)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield record
    hits = [
        w
        for w in record
        if issubclass(w.category, (DeprecationWarning, FutureWarning)) or "deprecat" in str(w.message).lower()
    ]
    seen = [f"{w.category.__name__}: {w.message}" for w in record]
    assert hits, f"expected a deprecation warning, got: {seen}"
    if match is not None:
        assert any(re.search(match, str(w.message), re.I) for w in hits), (
            f"no deprecation warning matches {match!r}; got: {seen}"
        )


def params_equal(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def clone_params(module):
    return [p.detach().clone() for p in module.parameters()]
