"""``PyTorchProfiler``: operator-level timings from ``torch.profiler``, grouped under the runtime's action names.

Every profiled hook runs inside ``torch.profiler.record_function(action_name)``, so the table and the
Chrome trace show which hook the operators ran in. Without a ``schedule`` everything from the first
profiled action to the end of the stage is recorded (memory grows with the run: profile short runs, or
pass ``schedule=torch.profiler.schedule(wait=1, warmup=1, active=3)``); with one, the profiler steps
once per ``*_step`` action, as Lightning's does.

Example::

    Trainer(profiler="pytorch")                                      # the table, printed at the end
    Trainer(profiler=PyTorchProfiler(dirpath=".", filename="perf"))  # perf files, with a Chrome trace
"""
import os
from typing import Any

import torch

from runtime.profilers.profiler import Profiler

__all__ = ["PyTorchProfiler"]

_STEP_ACTIONS = ("training_step", "validation_step", "test_step", "predict_step")
_SORT_KEYS = ("cpu_time", "cuda_time", "cpu_time_total", "cuda_time_total", "cpu_memory_usage", "cuda_memory_usage",
              "self_cpu_memory_usage", "self_cuda_memory_usage", "count")


class PyTorchProfiler(Profiler):
    """Profile with ``torch.profiler``.

    Args:
        dirpath, filename: where the table (``.txt``) and the Chrome trace go; printed when no filename.
        group_by_input_shapes: one row per operator and input shape (records shapes).
        emit_nvtx: emit NVTX ranges for ``nsys`` / ``nvprof`` instead of profiling in-process.
        export_to_chrome: write ``<stage>-<filename>.pt.trace.json`` (needs ``filename``).
        row_limit: rows in the table (-1: all).
        sort_by_key: the table's sort column; ``cuda_time_total`` on CUDA, ``cpu_time_total`` otherwise.
        record_module_names: also record each submodule's forward under its name.
        table_kwargs: more arguments for ``key_averages().table``.
        profiler_kwargs: passed to ``torch.profiler.profile`` (``activities``, ``schedule``, ``profile_memory``, ...).
    """

    def __init__(
        self,
        dirpath: str | os.PathLike | None = None,
        filename: str | None = None,
        group_by_input_shapes: bool = False,
        emit_nvtx: bool = False,
        export_to_chrome: bool = True,
        row_limit: int = 20,
        sort_by_key: str | None = None,
        record_module_names: bool = True,
        table_kwargs: dict[str, Any] | None = None,
        **profiler_kwargs: Any,
    ) -> None:
        super().__init__(dirpath=dirpath, filename=filename)
        self._group_by_input_shapes = group_by_input_shapes and profiler_kwargs.get("record_shapes", True)
        if group_by_input_shapes:
            profiler_kwargs.setdefault("record_shapes", True)
        self._emit_nvtx = emit_nvtx
        self._export_to_chrome = export_to_chrome
        self._row_limit = row_limit
        self._sort_by_key = sort_by_key or ("cuda_time_total" if torch.cuda.is_available() else "cpu_time_total")
        if self._sort_by_key not in _SORT_KEYS:
            raise ValueError(f"PyTorchProfiler(sort_by_key={sort_by_key!r}): use one of {', '.join(_SORT_KEYS)}")
        self._record_module_names = record_module_names
        self._table_kwargs = dict(table_kwargs or {})
        for key in ("sort_by", "row_limit"):
            if key in self._table_kwargs:
                raise KeyError(f"PyTorchProfiler(table_kwargs={{{key!r}: ...}}): pass `{key}` as the profiler's own "
                               f"argument ({'sort_by_key' if key == 'sort_by' else 'row_limit'}=...) instead")
        self._profiler_kwargs = profiler_kwargs
        self.profiler: Any = None  # the torch.profiler.profile (or emit_nvtx) context, open while recording
        self._recording: dict[str, list[Any]] = {}  # action -> open record_function contexts (actions may nest)
        self._module_hooks: list[Any] = []
        self.function_events: Any = None  # the recorded events, once the profiler stopped

    # -- recording
    def _start_profiler(self) -> None:
        if self._emit_nvtx:
            self.profiler = torch.autograd.profiler.emit_nvtx(record_shapes=self._group_by_input_shapes)
        else:
            kwargs = dict(self._profiler_kwargs)
            if "activities" not in kwargs:
                kwargs["activities"] = [torch.profiler.ProfilerActivity.CPU]
                if torch.cuda.is_available():
                    kwargs["activities"].append(torch.profiler.ProfilerActivity.CUDA)
            self.profiler = torch.profiler.profile(**kwargs)
        self.profiler.__enter__()

    def start(self, action_name: str) -> None:
        if self.profiler is None:
            self._start_profiler()
        context = torch.profiler.record_function(action_name)
        context.__enter__()
        self._recording.setdefault(action_name, []).append(context)

    def stop(self, action_name: str) -> None:
        stack = self._recording.get(action_name)
        if not stack:
            raise ValueError(f"Attempting to stop recording an action ({action_name}) which was never started.")
        stack.pop().__exit__(None, None, None)
        if (self.profiler is not None and not self._emit_nvtx and self._profiler_kwargs.get("schedule") is not None
                and action_name.endswith(_STEP_ACTIONS)):
            self.profiler.step()

    def _stop_profiler(self) -> None:
        for stack in self._recording.values():
            while stack:
                stack.pop().__exit__(None, None, None)
        if self.profiler is None:
            return
        profiler, self.profiler = self.profiler, None
        profiler.__exit__(None, None, None)
        if not self._emit_nvtx:
            self.function_events = profiler.events()
            self._last_profiler = profiler

    # -- module names
    def _register_module_names(self, model: torch.nn.Module) -> None:
        """Record each submodule's forward as ``[module]Type: name``."""
        if not self._record_module_names or self._module_hooks:
            return
        for name, module in model.named_modules():
            if not name:
                continue
            label = f"[pl][module]{type(module).__module__}.{type(module).__name__}: {name}"

            def pre(mod: Any, inputs: Any, label: str = label) -> None:
                context = torch.profiler.record_function(label)
                context.__enter__()
                mod.__dict__.setdefault("_runtime_profiler_records", []).append(context)

            def post(mod: Any, inputs: Any, output: Any) -> None:
                records = mod.__dict__.get("_runtime_profiler_records")
                if records:
                    records.pop().__exit__(None, None, None)

            self._module_hooks.append(module.register_forward_pre_hook(pre))
            self._module_hooks.append(module.register_forward_hook(post))

    def setup(self, stage: str, local_rank: int | None = None, log_dir: str | None = None, model: Any = None) -> None:
        super().setup(stage, local_rank=local_rank, log_dir=log_dir)
        if model is not None:
            self._register_module_names(model)

    # -- report
    def summary(self) -> str:
        self._stop_profiler()
        if self._emit_nvtx or self.function_events is None:
            return ""
        profiler = self._last_profiler
        if self._export_to_chrome and self.filename:
            dirpath = os.fspath(self.dirpath) if self.dirpath is not None else os.getcwd()
            os.makedirs(dirpath, exist_ok=True)
            profiler.export_chrome_trace(os.path.join(dirpath, self._prepare_filename(extension=".pt.trace.json")))
        averages = profiler.key_averages(group_by_input_shape=self._group_by_input_shapes)
        table = averages.table(sort_by=self._sort_by_key, row_limit=self._row_limit, **self._table_kwargs)
        title = (f"{self._stage.upper()} " if self._stage else "") + "Profiler Report"
        return f"{title}\nProfile stats for: records\n{table}\n"

    def teardown(self, stage: str | None = None) -> None:
        self._stop_profiler()
        for handle in self._module_hooks:
            handle.remove()
        self._module_hooks.clear()
        self._recording.clear()
