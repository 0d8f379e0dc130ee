"""Preemption and restarts: SIGTERM / SIGUSR1 become a saved ``hpc_ckpt_N.ckpt`` that the next start resumes
from, and a process torchrun restarted resumes from the last checkpoint.

While fitting, a signal only raises a flag on the run (``preemption_signals``); after each training step
the loop asks ``signal_to_act_on`` and, when there is one, ``save_on_preemption`` saves and exits. With
several processes the ranks first agree on the step to do it at (``_PeerSignals``); the same exchange
makes ``max_time`` one decision for all ranks.
"""
import os
import re
import signal
import threading
import time
from contextlib import contextmanager
from typing import Generator

import torch

from runtime.utilities.rank_zero import rank_zero_info, rank_zero_warn

def hpc_checkpoints(folder: str) -> list[tuple[int, str]]:
    """``(N, path)`` of the ``hpc_ckpt_N.ckpt`` files in ``folder``, oldest first."""
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        m = re.fullmatch(r"hpc_ckpt_(\d+)\.ckpt", name)
        if m:
            found.append((int(m.group(1)), os.path.join(folder, name)))
    return sorted(found)


def requeuing_cluster() -> bool:
    """Whether a scheduler restarts this job after a preemption (a SLURM batch job), so that a preemption
    file in ``default_root_dir`` is this job's own, to resume from."""
    return "SLURM_JOB_ID" in os.environ and os.environ.get("SLURM_JOB_NAME") not in ("bash", "interactive")


def preempted_checkpoint(trainer) -> str | None:
    """For a plain ``fit()``: the newest ``hpc_ckpt_N.ckpt`` in ``default_root_dir`` when a requeuing cluster
    restarted this job. Elsewhere such a file is a leftover (a laptop run stopped by Ctrl-C or SIGTERM):
    it is named, not resumed; ``fit(ckpt_path="hpc")`` asks for it."""
    if trainer.is_global_zero:  # a preemption save killed mid-write (SIGKILL after the grace period) left these
        from runtime.checkpoint.io import remove_stale_temporaries

        remove_stale_temporaries(trainer.default_root_dir)
    found = hpc_checkpoints(trainer.default_root_dir)
    if not found:
        return None
    path = found[-1][1]
    if not requeuing_cluster():
        rank_zero_warn(
            f"{path} was left by a run stopped by a signal; not resuming from it, as no requeuing cluster (SLURM "
            "batch job) is detected. Pass fit(ckpt_path='hpc') to resume from it, or remove it."
        )
        return None
    rank_zero_info(f"Resuming from {path}, written when an earlier run of this job was stopped by a signal.")
    return path


def asked_checkpoint(trainer) -> str:
    """``ckpt_path="hpc"``: the newest preemption file, which must exist."""
    found = hpc_checkpoints(trainer.default_root_dir)
    if not found:
        from runtime.utilities.exceptions import MisconfigurationException

        raise MisconfigurationException(
            f"ckpt_path='hpc' but there is no hpc_ckpt_N.ckpt in {trainer.default_root_dir} (they are written there "
            "when a fit is stopped by SIGTERM or SIGUSR1). Pass the path of a .ckpt file instead."
        )
    return found[-1][1]


def remove_finished(trainer) -> None:
    """A fit that resumed from ``hpc_ckpt_N.ckpt`` finished: that file and the older ones of the same job are
    done with (left, they would be resumed by the next job's plain ``fit()``). Rank zero removes them."""
    if not trainer.is_global_zero or not trainer.ckpt_path:
        return
    name = os.path.basename(os.fspath(trainer.ckpt_path))
    m = re.fullmatch(r"hpc_ckpt_(\d+)\.ckpt", name)
    if not m or os.path.dirname(os.path.abspath(trainer.ckpt_path)) != os.path.abspath(trainer.default_root_dir):
        return
    from runtime.checkpoint.io import remove_path

    for n, path in hpc_checkpoints(trainer.default_root_dir):
        if n <= int(m.group(1)):
            remove_path(path)


def save_on_preemption(trainer, signum: int) -> None:
    """A stop signal arrived and the step is finished: save where we are, requeue under SLURM, exit 128 + signal.

    With several processes every rank comes here at the same step (see ``_PeerSignals``), so the save's
    collectives (a barrier, FSDP's gathers) meet."""
    found = hpc_checkpoints(trainer.default_root_dir)
    path = os.path.join(trainer.default_root_dir, f"hpc_ckpt_{found[-1][0] + 1 if found else 1}.ckpt")
    path = trainer.strategy.broadcast(path)  # one name, as rank zero sees the folder
    trainer.save_checkpoint(path)
    trainer.strategy.checkpoint_io.teardown()
    job = os.environ.get("SLURM_JOB_ID")
    if (trainer.is_global_zero and signum == getattr(signal, "SIGUSR1", None) and job
            and os.environ.get("SLURM_JOB_NAME") not in ("bash", "interactive")):
        import subprocess

        result = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
        if result.returncode == 0:
            rank_zero_info(f"SLURM job {job} requeued; the next start resumes from {path}.")
        else:
            rank_zero_warn(f"`scontrol requeue {job}` failed ({result.stderr.strip()}); resume by hand from {path}.")
    raise SystemExit(128 + signum)


def signal_to_act_on(run) -> int | None:
    """After each training step: the stop signal to save and exit for now, if any (the loop's one check)."""
    peers = run.peer_signals
    if peers is None:
        return run.received_signal
    return peers.exchange(run.received_signal)


class _PeerSignals:
    """Ranks receive a scheduler's signal at slightly different steps, yet must save at the same one.

    At agreed steps every rank adds the signal it has received to a small all-reduce (MAX) that runs in the
    background on a CPU (gloo) group; its result is read at the next agreed step, where all ranks act on it
    together. The same all-reduce carries rank zero's proposal for the gap to the exchange after that (about
    ``every_seconds`` of its steps), so the steps stay agreed without a collective on every step.

    It also carries ``max_time``: a rank whose clock says the time is up sets ``time_up_here``; once any rank
    has, ``time_up`` turns True on every rank at the same step. Clocks differ across processes, and a rank
    that stopped alone would leave the others waiting in the next collective."""

    every_seconds = 0.5

    def __init__(self, strategy) -> None:
        import torch.distributed as dist

        group = getattr(strategy, "_signal_group", None)
        if group is None:  # created once, by every rank (a collective)
            group = strategy._signal_group = dist.new_group(backend="gloo")
        self.group = group
        self.is_zero = strategy.is_global_zero
        self.flag = torch.zeros(3, dtype=torch.int64)  # [signal, steps until the exchange after next, time is up]
        self.time_up_here = False  # max_time has passed by this rank's clock (sent at the next exchange)
        self.time_up = False  # agreed: it has passed on some rank (the same on every rank, at the same step)
        self.work = None
        self.countdown = 1  # steps until the next exchange
        self.gap = 1  # steps from the last exchange to the next
        self.since = time.monotonic()

    def exchange(self, received: int | None) -> int | None:
        import torch.distributed as dist

        self.countdown -= 1
        if self.countdown > 0:
            return None
        steps = self.gap  # since the last exchange
        if self.work is not None:  # the result of the last exchange: a signal to act on, and the next gap
            self.work.wait()
            self.work = None
            agreed, proposed, time_up = self.flag.tolist()
            self.time_up = self.time_up or bool(time_up)
            if agreed:
                return agreed
            self.gap = max(1, proposed)
        self.countdown = self.gap
        proposal = 0
        if self.is_zero:  # the gap after the next one: about every_seconds of rank zero's recent steps
            now = time.monotonic()
            per_step = max((now - self.since) / steps, 1e-6)
            proposal = int(min(max(self.every_seconds / per_step, 1), 10_000))
            self.since = now
        self.flag[0], self.flag[1], self.flag[2] = received or 0, proposal, int(self.time_up_here)
        self.work = dist.all_reduce(self.flag, op=dist.ReduceOp.MAX, group=self.group, async_op=True)
        return None

    def close(self) -> None:
        if self.work is not None:
            self.work.wait()
            self.work = None


@contextmanager
def preemption_signals(trainer, run) -> Generator[None, None, None]:
    """While fitting, SIGTERM and SIGUSR1 (SLURM's warning) only raise a flag the loop checks after each step.

    Signal handlers can only be set in the main thread; the ranks' exchange (signals and max_time) runs in any."""
    def handler(signum, frame):
        run.received_signal = signum

    previous = {}
    if threading.current_thread() is threading.main_thread():
        signals = [signal.SIGTERM] + ([signal.SIGUSR1] if hasattr(signal, "SIGUSR1") else [])
        previous = {sig: signal.signal(sig, handler) for sig in signals}
    run.received_signal = None
    run.peer_signals = _PeerSignals(trainer.strategy) if trainer.world_size > 1 else None
    try:
        yield
        if run.peer_signals is not None:
            run.peer_signals.close()
    finally:
        run.peer_signals = None
        for sig, prev in previous.items():
            signal.signal(sig, prev)


def elastic_checkpoint(trainer) -> str | None:
    """Under ``torchrun --max-restarts``, a restarted process resumes from the last checkpoint by itself."""
    from runtime.strategies.ddp import elastic_restart

    if not elastic_restart():
        return None
    cb = trainer.checkpoint_callback
    dirpath = getattr(cb, "dirpath", None) or (cb._resolve_ckpt_dir(trainer) if hasattr(cb, "_resolve_ckpt_dir") else None)
    candidate = os.path.join(dirpath, "last.ckpt") if dirpath else None
    if candidate and os.path.exists(candidate):
        rank_zero_info(f"torchrun restarted this run; resuming from {candidate}.")
        return candidate
    return None
