"""Cluster environments at Lightning's ``plugins.environments`` path (``DDPStrategy(cluster_environment=...)``)."""
from runtime.strategies.environments import (
    ClusterEnvironment,
    MPIEnvironment,
    SLURMEnvironment,
    TorchElasticEnvironment,
)

LightningEnvironment = ClusterEnvironment  # Lightning's name for the default: the Trainer starts the processes

__all__ = ["ClusterEnvironment", "LightningEnvironment", "MPIEnvironment", "SLURMEnvironment", "TorchElasticEnvironment"]
