"""Distributed data parallel on torch.distributed: one process per device, gradients all-reduced.

torch.distributed does the communication (gloo on CPU, NCCL on GPUs); this strategy starts the
processes (or joins the ones torchrun / SLURM started), wires the process group, wraps the module in
DistributedDataParallel and answers the collectives the loop and callbacks ask for.
"""
import atexit
import os
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from runtime.strategies.environments import ClusterEnvironment, TorchElasticEnvironment
from runtime.strategies.launchers import MultiprocessingLauncher, SubprocessLauncher
from runtime.strategies.parallel import ParallelStrategy
from runtime.utilities.apply_func import apply_to_collection
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_only

_REDUCE_OPS = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN, "mean": dist.ReduceOp.SUM}


class _StepModule(nn.Module):
    """What DDP and FSDP wrap: its forward runs one of the LightningModule's steps, so their hooks see it."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        self.after_step: Any = None  # called inside forward, after the step (DDP's manual optimization)

    def forward(self, name: str, *args: Any) -> Any:
        out = self.module.trainer._hooks.module(name, *args)
        if self.after_step is not None:
            self.after_step()
        return out


class DDPStrategy(ParallelStrategy):
    """``Trainer(strategy="ddp", devices=N, num_nodes=M)``: N processes per node, M nodes."""

    def __init__(self, accelerator=None, parallel_devices: list[torch.device] | None = None,
                 cluster_environment: ClusterEnvironment | None = None, checkpoint_io=None, precision_plugin=None,
                 num_nodes: int = 1, start_method: str = "popen", find_unused_parameters: bool = False,
                 process_group_backend: str | None = None, timeout: timedelta = timedelta(minutes=30), **ddp_kwargs: Any) -> None:
        super().__init__(accelerator, None, precision_plugin, checkpoint_io)
        self.parallel_devices = parallel_devices
        self.cluster_environment = cluster_environment
        self._given = {"parallel_devices": parallel_devices is not None, "cluster_environment": cluster_environment is not None}
        self.num_nodes = num_nodes
        self.start_method = start_method
        self.find_unused_parameters = find_unused_parameters
        self.process_group_backend = process_group_backend
        self.timeout = timeout
        self.ddp_kwargs = ddp_kwargs
        self._ddp: DistributedDataParallel | None = None
        if parallel_devices is not None and cluster_environment is not None:
            self._configure()

    def connect_hardware(self, accelerator, device_ids: list[int], num_nodes: int, precision_plugin) -> None:
        from runtime.strategies.environments import select_environment

        super().connect_hardware(accelerator, device_ids, num_nodes, precision_plugin)
        # what the user did not give comes from this Trainer (also when the object served another Trainer before)
        if not self._given["parallel_devices"]:
            self.parallel_devices = [self.accelerator.device(i) for i in device_ids]
        self.num_nodes = num_nodes
        if not self._given["cluster_environment"]:
            self.cluster_environment = select_environment(len(self.parallel_devices), num_nodes)
        self._configure()

    def _configure(self) -> None:
        """Pick the launcher and check the world size once devices, nodes and environment are known."""
        env = self.cluster_environment
        self.num_processes = len(self.parallel_devices)
        self.root_device = self.parallel_devices[min(env.local_rank(), self.num_processes - 1)]
        if env.creates_processes_externally:
            self.launcher = None
        elif self.start_method == "popen":
            self.launcher = SubprocessLauncher(self)
        else:
            self.launcher = MultiprocessingLauncher(self, self.start_method)
        expected = self.num_processes * self.num_nodes
        if env.creates_processes_externally and env.world_size() != expected:
            raise MisconfigurationException(
                f"devices={self.num_processes} x num_nodes={self.num_nodes} = {expected} processes, but the "
                f"{env.name} environment started {env.world_size()}. Make devices and "
                "num_nodes match how the job was launched (e.g. torchrun --nproc-per-node and --nnodes)."
            )

    # -- setup
    def setup_environment(self) -> None:
        self.root_device = self.parallel_devices[self.local_rank]
        rank_zero_only.rank = self.global_rank
        if dist.is_available() and dist.is_initialized():
            return
        backend = self.process_group_backend or ("nccl" if self.root_device.type == "cuda" else "gloo")
        env = self.cluster_environment
        if isinstance(env, TorchElasticEnvironment):
            # torchrun's agent keeps one store across restarts: a per-attempt prefix keeps the addresses
            # a failed attempt published from being read by the next one
            agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == str(True)
            store = dist.TCPStore(env.main_address, env.main_port, self.world_size,
                                  is_master=not agent and self.global_rank == 0, timeout=self.timeout, multi_tenant=not agent)
            store = dist.PrefixStore(f"/runtime/attempt_{env.restart_count()}", store)
            dist.init_process_group(backend, store=store, rank=self.global_rank, world_size=self.world_size, timeout=self.timeout)
        else:
            dist.init_process_group(backend, init_method=f"tcp://{env.main_address}:{env.main_port}", rank=self.global_rank,
                                    world_size=self.world_size, timeout=self.timeout)
        # the group outlives this run: a later fit/validate/test of the script reuses it (every rank makes
        # the same calls), and FSDP's shards live on it; it is closed when the process exits
        atexit.register(_destroy_process_group)

    def setup(self, trainer) -> None:
        self.trainer = trainer
        self.setup_environment()
        self.accelerator.setup_device(self.root_device)
        module = trainer.lightning_module
        if trainer.sync_batchnorm:
            nn.SyncBatchNorm.convert_sync_batchnorm(module)
        self.precision_plugin.convert_module(module)
        module.to(self.root_device)
        self._share_logger_versions(trainer)
        device_ids = [self.root_device.index] if self.root_device.type == "cuda" else None
        wrapper = _StepModule(module)
        self._ddp = DistributedDataParallel(
            wrapper, device_ids=device_ids, find_unused_parameters=self.find_unused_parameters, **self.ddp_kwargs,
        )
        wrapper.after_step = self._after_step

    def _share_logger_versions(self, trainer) -> None:
        """Every rank uses rank zero's logger version, so log and checkpoint folders agree."""
        versions = [getattr(lg, "_version", None) for lg in trainer.loggers]
        if self.is_global_zero:
            versions = [lg.version if hasattr(lg, "_version") else None for lg in trainer.loggers]
        versions = self.broadcast(versions)
        for lg, version in zip(trainer.loggers, versions):
            if version is not None and hasattr(lg, "_version"):
                lg._version = version

    @property
    def model(self) -> nn.Module:
        return self._ddp if self._ddp is not None else self.trainer.lightning_module

    def step(self, name: str, *args: Any) -> Any:
        if name != "training_step":
            return self.trainer._hooks.module(name, *args)
        try:
            out = self._ddp(name, *args)
        except RuntimeError as err:
            if "find_unused_parameters=True" in str(err) and not self.find_unused_parameters:
                raise RuntimeError(
                    "Some parameters got no gradient in a backward pass (a GAN's discriminator step leaves the generator "
                    "out, for one), and DDP waits for them. Use strategy='ddp_find_unused_parameters_true' (or "
                    f"DDPStrategy(find_unused_parameters=True)).\n\ntorch's message: {err}"
                ) from None
            raise
        if not self.trainer.lightning_module.automatic_optimization:
            self._ddp.require_backward_grad_sync = True  # _after_step turned it off for DDP's post-forward
        return out

    # -- manual optimization: backward runs inside DDP's forward (in training_step), so the reducer is
    # prepared before each manual_backward instead of after the forward
    def _after_step(self) -> None:
        if not self.trainer.lightning_module.automatic_optimization:
            self._ddp.require_backward_grad_sync = False  # the backward already happened: DDP must not wait for one

    def backward(self, loss: torch.Tensor, optimizer: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        ddp = self._ddp
        if ddp is not None and not self.trainer.lightning_module.automatic_optimization:
            if torch.is_grad_enabled() and ddp.require_backward_grad_sync:
                ddp.require_forward_param_sync = True
                ddp.reducer._rebuild_buckets()
                ddp.reducer.prepare_for_backward([loss] if ddp.find_unused_parameters and not ddp.static_graph else [])
            else:
                ddp.require_forward_param_sync = False
        return super().backward(loss, optimizer, *args, **kwargs)

    def no_sync(self):
        """Skip the gradient all-reduce (micro-batches that do not step the optimizer)."""
        return self._ddp.no_sync() if self._ddp is not None else nullcontext()

    # -- collectives
    def reduce(self, tensor: torch.Tensor, reduce_op: str = "mean", group: Any = None) -> torch.Tensor:
        if not isinstance(tensor, torch.Tensor):
            return tensor
        op = str(reduce_op).lower()
        if op in ("avg",):
            op = "mean"
        if op not in _REDUCE_OPS:
            raise MisconfigurationException(f"reduce_op={reduce_op!r}: use 'sum', 'mean', 'max' or 'min'.")
        out = tensor.detach().clone().to(self.root_device)
        if not out.is_floating_point() and op == "mean":
            out = out.float()
        dist.all_reduce(out, op=_REDUCE_OPS[op], group=group)
        return out / self.world_size if op == "mean" else out

    def all_gather(self, data: Any, group: Any = None, sync_grads: bool = False) -> Any:
        def gather(t: torch.Tensor) -> torch.Tensor:
            t = t.contiguous()
            if sync_grads:
                import torch.distributed.nn.functional as dfn

                return torch.stack(dfn.all_gather(t, group=group))
            out = [torch.empty_like(t) for _ in range(self.world_size)]
            dist.all_gather(out, t, group=group)
            return torch.stack(out)

        return apply_to_collection(data, torch.Tensor, gather)

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        if not (dist.is_available() and dist.is_initialized()):
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=src)
        return box[0]

    def barrier(self, name: str | None = None) -> None:
        if dist.is_available() and dist.is_initialized():
            dist.barrier()

    def reduce_boolean_decision(self, decision: bool, all: bool = True) -> bool:
        flag = torch.tensor(int(bool(decision)), device=self.root_device)
        dist.all_reduce(flag, op=dist.ReduceOp.SUM)
        return bool(flag.item() == self.world_size) if all else bool(flag.item() > 0)

    def teardown(self) -> None:
        super().teardown()
        self._ddp = None


def _destroy_process_group() -> None:
    """At exit. gloo aborts a process whose peer closes the connections under it, so on a normal exit the
    ranks first meet (briefly: a rank that is gone does not hold the others) and then close together."""
    import sys

    if not (dist.is_available() and dist.is_initialized()):
        return
    failed = getattr(sys, "last_value", None) is not None  # exiting on an error: the others are being stopped
    if not failed and dist.get_backend() == "gloo":
        try:
            dist.monitored_barrier(timeout=timedelta(seconds=30))
        except Exception:  # a rank already gone: close anyway
            pass
    dist.destroy_process_group()


def elastic_restart() -> bool:
    """True in a process torchrun restarted after a failure (``--max-restarts``)."""
    return TorchElasticEnvironment.detect() and TorchElasticEnvironment.restart_count() > 0
