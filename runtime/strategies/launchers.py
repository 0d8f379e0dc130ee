"""Starting the other processes of a multi-process run.

``SubprocessLauncher`` (strategy "ddp") re-runs the user's own command once per extra local rank, so
``python train.py fit ...`` just works; ``MultiprocessingLauncher`` ("ddp_spawn") runs the Trainer
call itself in new processes and brings rank zero's results back. Both kill the other processes when
this one fails, so no rank is left waiting in a collective.
"""
import io
import os
import signal
import subprocess
import sys
from typing import Any, Callable

import torch

from runtime.utilities.exceptions import MisconfigurationException


def _script_command() -> list[str]:
    """The command line that started this process, to start it again."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in ("__main__", None):  # python -m package.module ...
        name = spec.name[: -len(".__main__")] if spec.name.endswith(".__main__") else spec.name
        return [sys.executable, "-m", name, *sys.argv[1:]]
    script = sys.argv[0] if sys.argv else ""
    if not script or script == "-c" or not os.path.exists(script):
        raise MisconfigurationException(
            "strategy='ddp' starts the other processes by running your script again, but this process was not "
            "started from a script file (an interactive session, a notebook or `python -c`). Use "
            "strategy='ddp_spawn', or put the code in a script and run `python script.py`."
        )
    return [sys.executable, os.path.abspath(script), *sys.argv[1:]]


class SubprocessLauncher:
    """Rank zero starts local ranks 1..N-1 as copies of its own command, then runs on as rank 0."""

    # the ranks this process started, whichever Trainer started them: a failure in a later call, by the
    # same Trainer or another one, must end them too
    procs: list[subprocess.Popen] = []

    def __init__(self, strategy) -> None:
        self.strategy = strategy

    def launch(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        env = self.strategy.cluster_environment
        if not env.creates_processes_externally:  # a later call (fit, then test) finds the other ranks running
            self._start_children()
        try:
            return function(*args, **kwargs)
        except BaseException:
            self.kill(signal.SIGKILL)
            raise

    def _start_children(self) -> None:
        env = self.strategy.cluster_environment
        os.environ["MASTER_ADDR"] = env.main_address
        os.environ["MASTER_PORT"] = str(env.main_port)
        os.environ.setdefault("NODE_RANK", "0")
        os.environ["WORLD_SIZE"] = str(self.strategy.world_size)
        command = _script_command() if self.strategy.num_processes > 1 else []
        for local_rank in range(1, self.strategy.num_processes):
            child_env = {**os.environ, "LOCAL_RANK": str(local_rank)}
            self.procs.append(subprocess.Popen(command, env=child_env))
        os.environ["LOCAL_RANK"] = "0"

    def kill(self, signum: int = signal.SIGTERM) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signum)


def _spawned(rank: int, launcher: "MultiprocessingLauncher", function: Callable, args: tuple, kwargs: dict, queue) -> None:
    os.environ["LOCAL_RANK"] = str(rank)
    trainer = launcher.strategy.trainer
    result = function(*args, **kwargs)
    if trainer.is_global_zero:
        model = trainer.lightning_module
        buffer = io.BytesIO()  # bytes, not shared tensors: this process exits before the parent reads
        torch.save({
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "result": result,
            "progress": trainer._progress,
            "state": trainer.state,
            "callback_metrics": {k: v.detach().cpu() for k, v in trainer.callback_metrics.items()},
            "logged_metrics": {k: v.detach().cpu() for k, v in trainer.logged_metrics.items()},
            "best_model_path": getattr(trainer.checkpoint_callback, "best_model_path", None),
            "last_model_path": getattr(trainer.checkpoint_callback, "last_model_path", None),
        }, buffer)
        queue.put(buffer.getvalue())


class MultiprocessingLauncher:
    """Runs the Trainer call in N new processes (``spawn`` pickles the trainer and model, ``fork`` copies them)."""

    def __init__(self, strategy, start_method: str = "spawn") -> None:
        self.strategy = strategy
        self.start_method = start_method

    def launch(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        env = self.strategy.cluster_environment
        os.environ["MASTER_ADDR"] = env.main_address
        os.environ["MASTER_PORT"] = str(env.main_port)
        os.environ["WORLD_SIZE"] = str(self.strategy.world_size)
        os.environ.setdefault("NODE_RANK", "0")
        ctx = torch.multiprocessing.get_context(self.start_method)
        queue = ctx.SimpleQueue()
        try:
            torch.multiprocessing.start_processes(
                _spawned, args=(self, function, args, kwargs, queue), nprocs=self.strategy.num_processes,
                start_method=self.start_method,
            )
        except (AttributeError, TypeError, RuntimeError) as err:
            if "pickle" in str(err).lower():
                raise MisconfigurationException(
                    f"strategy='ddp_spawn' could not send the trainer and model to new processes: {err}. Define the "
                    "model and data classes at module level of an importable file, or use strategy='ddp' in a script."
                ) from err
            raise
        finally:
            for key in ("LOCAL_RANK", "WORLD_SIZE"):
                os.environ.pop(key, None)
        out = torch.load(io.BytesIO(queue.get()), weights_only=False)  # written by our own child process
        trainer = self.strategy.trainer
        trainer.lightning_module.load_state_dict(out["state_dict"])
        trainer._progress = out["progress"]
        trainer.state = out["state"]  # finished (or where it stopped), as the processes that ran it saw it
        trainer.callback_metrics.update(out["callback_metrics"])
        trainer.logged_metrics.update(out["logged_metrics"])
        cb = trainer.checkpoint_callback
        if cb is not None:
            cb.best_model_path = out["best_model_path"] or ""
            cb.last_model_path = out["last_model_path"] or ""
        return out["result"]

    def kill(self, signum: int = signal.SIGTERM) -> None: ...
