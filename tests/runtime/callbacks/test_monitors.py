"""DeviceStatsMonitor and ThroughputMonitor log what they measure through the run's loggers."""
import pytest
import torch

import runtime.accelerators as accelerators
import runtime.utilities.imports as imports
from runtime.callbacks import DeviceStatsMonitor, ThroughputMonitor
from runtime.demos import BoringModel
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.throughput import Throughput, measure_flops
from tests.runtime.helpers import RecordingLogger, make_trainer


def test_device_stats_logged_with_hook_prefix(tmp_path, monkeypatch):
    monkeypatch.setattr(accelerators, "get_cpu_stats", lambda: {"cpu_percent": 12.5})
    monkeypatch.setattr(imports, "_PSUTIL_AVAILABLE", True)
    logger = RecordingLogger()
    trainer = make_trainer(tmp_path, max_steps=4, limit_val_batches=0, logger=logger, log_every_n_steps=2,
                           callbacks=[DeviceStatsMonitor()])
    trainer.fit(BoringModel())
    rows = [(step, m) for step, m in logger.calls if any(k.startswith("DeviceStatsMonitor") for k in m)]
    assert {k for _, m in rows for k in m} == {"DeviceStatsMonitor.on_train_batch_start/cpu_percent",
                                              "DeviceStatsMonitor.on_train_batch_end/cpu_percent"}
    assert sorted({step for step, _ in rows}) == [1, 3]  # every log_every_n_steps


def test_device_stats_needs_a_logger_and_psutil(tmp_path, monkeypatch):
    with pytest.raises(MisconfigurationException, match="logger=False"):
        make_trainer(tmp_path, fast_dev_run=True, callbacks=[DeviceStatsMonitor()]).fit(BoringModel())
    monkeypatch.setattr(imports, "_PSUTIL_AVAILABLE", False)
    with pytest.raises(ModuleNotFoundError, match="psutil"):
        trainer = make_trainer(tmp_path, max_steps=1, logger=RecordingLogger(), callbacks=[DeviceStatsMonitor()])
        trainer.fit(BoringModel())
    # cpu_stats=False on the CPU: nothing to log, and psutil is not needed
    logger = RecordingLogger()
    make_trainer(tmp_path, max_steps=2, logger=logger, log_every_n_steps=1,
                 callbacks=[DeviceStatsMonitor(cpu_stats=False)]).fit(BoringModel())
    assert not any(k.startswith("DeviceStatsMonitor") for k in logger.keys())


def test_throughput_window_rates():
    tp = Throughput(window_size=3, available_flops=100.0)
    for i in range(1, 5):
        tp.update(time=i * 0.5, batches=i, samples=i * 4, lengths=i * 40, flops=10)
    out = tp.compute()
    assert out["samples"] == 16 and out["device/samples_per_sec"] == pytest.approx(8.0)
    assert out["device/batches_per_sec"] == pytest.approx(2.0) and out["device/items_per_sec"] == pytest.approx(80.0)
    assert out["device/flops_per_sec"] == pytest.approx(20.0) and out["device/mfu"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="samples"):
        tp.update(time=3.0, batches=5, samples=3)


def test_throughput_monitor_logs_train_and_validation(tmp_path):
    class Flops(BoringModel):
        flops_per_batch = 1000

    logger = RecordingLogger()
    monitor = ThroughputMonitor(batch_size_fn=lambda batch: batch.size(0), window_size=2)
    make_trainer(tmp_path, max_steps=4, limit_val_batches=2, val_check_interval=2, logger=logger, log_every_n_steps=1,
                 callbacks=[monitor]).fit(Flops())
    keys = logger.keys()
    assert {"train/samples", "train/device/samples_per_sec", "train/device/flops_per_sec"} <= keys
    assert "validate/device/batches_per_sec" in keys
    assert logger.values("train/samples") == [1, 2, 3, 4]  # cumulative, one per logged step


def test_measure_flops_counts_a_linear_layer():
    with torch.device("meta"):
        layer = torch.nn.Linear(8, 4, bias=False)
        x = torch.randn(2, 8)
    assert measure_flops(layer, lambda: layer(x)) == 2 * 2 * 8 * 4
    assert measure_flops(layer, lambda: layer(x), lambda y: y.sum()) > 2 * 2 * 8 * 4
