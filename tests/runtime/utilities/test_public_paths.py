"""Lightning's public utility paths resolve to working code."""
import pickle
import warnings
from argparse import Namespace

import pytest
import torch

from runtime.demos import BoringModel
from runtime.callbacks import Callback, ModelCheckpoint


def test_attribute_dict_and_picklable():
    from runtime.utilities import AttributeDict, is_picklable
    from runtime.utilities.parsing import clean_namespace

    hp = AttributeDict(lr=0.1)
    hp.batch_size = 4
    assert hp["batch_size"] == 4 and hp.lr == 0.1
    with pytest.raises(AttributeError, match="missing"):
        hp.missing
    assert is_picklable(hp) and not is_picklable(lambda: 0)
    mixed = {"a": 1, "f": lambda: 0}
    clean_namespace(mixed)
    assert mixed == {"a": 1}
    assert pickle.loads(pickle.dumps(hp)) == hp


def test_lightning_getattr_setattr_reach_hparams():
    from runtime.utilities.parsing import lightning_getattr, lightning_hasattr, lightning_setattr

    model = BoringModel()
    model.save_hyperparameters({"batch_size": 8})
    assert lightning_hasattr(model, "batch_size") and lightning_getattr(model, "batch_size") == 8
    lightning_setattr(model, "batch_size", 16)
    assert model.hparams.batch_size == 16
    with pytest.raises(AttributeError, match="nope"):
        lightning_getattr(model, "nope")


def test_is_overridden_finds_the_runtime_base():
    from runtime.utilities.model_helpers import is_overridden

    class Mine(BoringModel):
        def on_train_start(self):
            pass

    class CB(Callback):
        def on_fit_end(self, trainer, pl_module):
            pass

    assert is_overridden("training_step", BoringModel())  # BoringModel writes its own step
    assert is_overridden("on_train_start", Mine()) and not is_overridden("on_train_start", BoringModel())
    assert is_overridden("on_fit_end", CB()) and not is_overridden("on_fit_start", CB())
    assert not is_overridden("on_fit_end", None)
    with pytest.raises(ValueError, match="Expected a parent"):
        is_overridden("forward", torch.nn.Linear(1, 1))


def test_oom_detection_and_cleanup():
    from runtime.utilities.memory import garbage_collection_cuda, is_oom_error, recursive_detach

    assert is_oom_error(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_oom_error(RuntimeError("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED. This error may appear"))
    assert is_oom_error(RuntimeError("[enforce fail] DefaultCPUAllocator: can't allocate memory: you tried"))
    assert is_oom_error(torch.cuda.OutOfMemoryError("boom"))
    assert not is_oom_error(RuntimeError("shape mismatch")) and not is_oom_error(ValueError("CUDA out of memory"))
    garbage_collection_cuda()  # no CUDA here: must not raise
    x = torch.ones(2, requires_grad=True) * 2
    out = recursive_detach({"a": [x], "b": 1})
    assert not out["a"][0].requires_grad and out["b"] == 1


def test_grad_norm_values():
    from runtime.utilities import grad_norm

    layer = torch.nn.Linear(2, 1, bias=False)
    layer.weight.grad = torch.tensor([[3.0, 4.0]])
    norms = grad_norm(layer, norm_type=2)
    assert norms["grad_2.0_norm/weight"].item() == pytest.approx(5.0)
    assert norms["grad_2.0_norm_total"].item() == pytest.approx(5.0)
    with pytest.raises(ValueError, match="positive"):
        grad_norm(layer, norm_type=0)


def test_model_summary_paths_agree():
    from runtime.callbacks.model_summary import summarize as from_callbacks
    from runtime.utilities.model_summary import ModelSummary, get_human_readable_count, summarize

    summary = ModelSummary(BoringModel(), max_depth=1)
    assert summary.total_parameters == 66 and summary.layer_names == ["layer"]
    assert str(summarize(BoringModel())) == str(from_callbacks(BoringModel()))
    assert get_human_readable_count(1_234_567) == "1.2 M"


def test_imports_flags_and_types():
    from runtime.utilities.imports import RequirementCache, _TORCH_GREATER_EQUAL_2_1, _IS_WINDOWS
    from runtime.utilities.types import STEP_OUTPUT, LRSchedulerConfig, OptimizerLRScheduler  # noqa: F401
    from runtime.core.optimizer import LRSchedulerConfig as from_core

    assert _TORCH_GREATER_EQUAL_2_1 and _IS_WINDOWS in (True, False)
    assert bool(RequirementCache("torch>=2.0"))
    missing = RequirementCache("surely-not-a-package-kindling")
    assert not missing and "pip install" in str(missing)
    assert from_core is LRSchedulerConfig


def test_warnings_and_rank_zero_only_homes():
    from runtime.utilities.distributed import rank_zero_only
    from runtime.utilities.rank_zero import rank_zero_only as home
    from runtime.utilities.warnings import PossibleUserWarning, disable_possible_user_warnings

    assert rank_zero_only is home
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        disable_possible_user_warnings()
        warnings.warn("few workers", PossibleUserWarning)
    assert not [w for w in seen if w.category is PossibleUserWarning]


def test_cloud_io_round_trip(tmp_path):
    from runtime.utilities.cloud_io import _load, atomic_save, get_filesystem

    path = tmp_path / "x.ckpt"
    atomic_save({"w": torch.ones(2), "epoch": 3}, path)
    loaded = _load(str(path))
    assert loaded["epoch"] == 3 and torch.equal(loaded["w"], torch.ones(2))
    assert get_filesystem(str(tmp_path)).exists(str(path))


def test_saving_yaml_and_tags_csv(tmp_path):
    from runtime.core.saving import (load_hparams_from_tags_csv, load_hparams_from_yaml, save_hparams_to_tags_csv,
                                     save_hparams_to_yaml)

    save_hparams_to_yaml(tmp_path / "h.yaml", Namespace(lr=0.1, name="x", layers=[1, 2]))
    assert load_hparams_from_yaml(tmp_path / "h.yaml") == {"lr": 0.1, "name": "x", "layers": [1, 2]}
    save_hparams_to_tags_csv(tmp_path / "tags.csv", {"lr": 0.1, "flag": True, "s": "text"})
    assert load_hparams_from_tags_csv(tmp_path / "tags.csv") == {"lr": 0.1, "flag": True, "s": "text"}
    with pytest.raises(RuntimeError, match="Missing folder"):
        save_hparams_to_yaml(tmp_path / "nope" / "h.yaml", {"a": 1})
    with pytest.warns(RuntimeWarning, match="Missing Tags"):
        assert load_hparams_from_yaml(tmp_path / "absent.yaml") == {}
    # a YAML tag that would build an object is refused, not run
    (tmp_path / "evil.yaml").write_text("a: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(Exception, match="python/object"):
        load_hparams_from_yaml(tmp_path / "evil.yaml")


def test_hyperparameters_mixin_outside_a_module():
    from runtime.core.mixins import HyperparametersMixin

    class Data(HyperparametersMixin):
        def __init__(self, batch_size=4, root="."):
            super().__init__()
            self.save_hyperparameters()

    assert dict(Data(batch_size=8).hparams) == {"batch_size": 8, "root": "."}


def test_demos_datasets():
    from runtime.demos import DemoModel, RandomDictDataset, RandomIterableDatasetWithLen

    sample = RandomDictDataset(4, 3)[1]
    assert torch.allclose(sample["b"], sample["a"] + 2) and len(RandomDictDataset(4, 3)) == 3
    assert len(RandomIterableDatasetWithLen(4, 5)) == 5 == len(list(RandomIterableDatasetWithLen(4, 5)))
    assert DemoModel(out_dim=3)(torch.zeros(2, 32)).shape == (2, 3)
