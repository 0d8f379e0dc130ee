"""Cluster environments read their process facts from the variables torchrun and SLURM set."""
import pytest

import runtime as pl
from runtime.strategies.environments import (
    ClusterEnvironment,
    SLURMEnvironment,
    TorchElasticEnvironment,
    first_host,
    select_environment,
)

CLEAR = ("TORCHELASTIC_RUN_ID", "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "GROUP_RANK",
         "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_NODELIST", "SLURM_JOB_ID",
         "SLURM_JOB_NAME", "NODE_RANK")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in CLEAR:
        monkeypatch.delenv(k, raising=False)


def test_local_default(monkeypatch):
    env = select_environment(num_devices=2, num_nodes=1)
    assert type(env) is ClusterEnvironment and not env.creates_processes_externally
    assert env.world_size() == 2 and env.global_rank() == 0
    monkeypatch.setenv("LOCAL_RANK", "1")  # a child our launcher started
    assert env.creates_processes_externally and env.global_rank() == 1


def test_torchrun(monkeypatch):
    for k, v in dict(TORCHELASTIC_RUN_ID="r", RANK="3", LOCAL_RANK="1", WORLD_SIZE="4", MASTER_ADDR="10.0.0.1",
                     MASTER_PORT="29400", GROUP_RANK="1").items():
        monkeypatch.setenv(k, v)
    env = select_environment(2, 2)
    assert isinstance(env, TorchElasticEnvironment) and env.creates_processes_externally
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (4, 3, 1, 1)
    assert (env.main_address, env.main_port) == ("10.0.0.1", 29400)


def test_slurm(monkeypatch):
    for k, v in dict(SLURM_NTASKS="8", SLURM_PROCID="5", SLURM_LOCALID="1", SLURM_NODEID="2",
                     SLURM_NODELIST="gpu[07-09,12]", SLURM_JOB_ID="123456", SLURM_JOB_NAME="train").items():
        monkeypatch.setenv(k, v)
    env = select_environment(4, 2)
    assert isinstance(env, SLURMEnvironment)
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (8, 5, 1, 2)
    assert env.main_address == "gpu07" and env.main_port == 10000 + 3456
    monkeypatch.setenv("SLURM_JOB_NAME", "bash")  # an interactive allocation is not a launched job
    assert not SLURMEnvironment.detect()


@pytest.mark.parametrize("nodes,host", [("node1", "node1"), ("a[3-5],b1", "a3"), ("gpu[012,14]", "gpu012")])
def test_first_host(nodes, host):
    assert first_host(nodes) == host


def test_trainer_reads_ranks_from_slurm_and_checks_the_world_size(monkeypatch):
    for k, v in dict(SLURM_NTASKS="2", SLURM_PROCID="1", SLURM_LOCALID="1", SLURM_NODEID="0",
                     SLURM_NODELIST="localhost", SLURM_JOB_ID="7", SLURM_JOB_NAME="train").items():
        monkeypatch.setenv(k, v)
    trainer = pl.Trainer(accelerator="cpu", strategy="ddp", devices=2, logger=False)
    assert (trainer.world_size, trainer.global_rank, trainer.local_rank) == (2, 1, 1)
    assert trainer.strategy.launcher is None  # SLURM started the processes
    assert not trainer.is_global_zero
    with pytest.raises(pl.utilities.MisconfigurationException, match="started 2"):
        pl.Trainer(accelerator="cpu", strategy="ddp", devices=2, num_nodes=2)


def test_mpi_environment_reads_the_launcher_variables(monkeypatch):
    from runtime.plugins.environments import MPIEnvironment
    from runtime.strategies.environments import select_environment

    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert not MPIEnvironment.detect()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "3")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("SLURM_NTASKS", raising=False)
    env = select_environment(2, 2)
    assert isinstance(env, MPIEnvironment) and env.creates_processes_externally
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (4, 3, 1, 1)
    monkeypatch.setenv("MASTER_ADDR", "host0")
    monkeypatch.setenv("MASTER_PORT", "29511")
    assert (env.main_address, env.main_port) == ("host0", 29511)
    monkeypatch.delenv("MASTER_ADDR")
    fresh = MPIEnvironment(2, 2)
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="MASTER_ADDR"):
            fresh.main_address
