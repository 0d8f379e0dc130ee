"""Cluster environments: who started the processes, and each process's place in the run.

The Trainer asks the environment it detects (torchrun, SLURM, or the local default) for the world
size and ranks. When torchrun or SLURM started the processes, the Trainer launches none itself.
"""
import os
import re
import socket


class ClusterEnvironment:
    """The local default: the Trainer starts one process per device (``strategy="ddp"``)."""

    name = "local"

    def __init__(self, num_devices: int = 1, num_nodes: int = 1) -> None:
        self.num_devices, self.num_nodes = num_devices, num_nodes

    @staticmethod
    def detect() -> bool:
        return True

    @property
    def creates_processes_externally(self) -> bool:
        # children our launcher started carry LOCAL_RANK; so does a run whose ranks the user set by hand
        return "LOCAL_RANK" in os.environ

    @property
    def main_address(self) -> str:
        return os.environ.get("MASTER_ADDR", "127.0.0.1")

    @property
    def main_port(self) -> int:
        if "MASTER_PORT" not in os.environ:
            os.environ["MASTER_PORT"] = str(find_free_port())
        return int(os.environ["MASTER_PORT"])

    def world_size(self) -> int:
        return int(os.environ.get("WORLD_SIZE", self.num_devices * self.num_nodes))

    def local_rank(self) -> int:
        return int(os.environ.get("LOCAL_RANK", 0))

    def node_rank(self) -> int:
        return int(os.environ.get("NODE_RANK", os.environ.get("GROUP_RANK", 0)))

    def global_rank(self) -> int:
        if "RANK" in os.environ:
            return int(os.environ["RANK"])
        return self.node_rank() * self.num_devices + self.local_rank()


class TorchElasticEnvironment(ClusterEnvironment):
    """Processes started by ``torchrun`` (torchelastic): every value comes from its variables."""

    name = "torchelastic"

    @staticmethod
    def detect() -> bool:
        required = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
        return "TORCHELASTIC_RUN_ID" in os.environ or all(k in os.environ for k in required)

    @property
    def creates_processes_externally(self) -> bool:
        return True

    @property
    def main_port(self) -> int:
        return int(os.environ["MASTER_PORT"])

    def world_size(self) -> int:
        return int(os.environ["WORLD_SIZE"])

    def global_rank(self) -> int:
        return int(os.environ["RANK"])

    def node_rank(self) -> int:
        return int(os.environ.get("GROUP_RANK", 0))

    @staticmethod
    def restart_count() -> int:
        return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", 0))


class SLURMEnvironment(ClusterEnvironment):
    """Processes started by ``srun``: ranks from SLURM's variables, the main node from the node list."""

    name = "slurm"

    @staticmethod
    def detect() -> bool:
        return "SLURM_NTASKS" in os.environ and os.environ.get("SLURM_JOB_NAME") not in ("bash", "interactive")

    @property
    def creates_processes_externally(self) -> bool:
        return True

    @property
    def main_address(self) -> str:
        if "MASTER_ADDR" in os.environ:
            return os.environ["MASTER_ADDR"]
        nodes = os.environ.get("SLURM_NODELIST", os.environ.get("SLURM_JOB_NODELIST", "127.0.0.1"))
        return first_host(nodes)

    @property
    def main_port(self) -> int:
        if "MASTER_PORT" in os.environ:
            return int(os.environ["MASTER_PORT"])
        job = os.environ.get("SLURM_JOB_ID", "0")
        return 10000 + int(re.sub(r"\D", "", job)[-4:] or 0)  # the same on every node of the job

    def world_size(self) -> int:
        return int(os.environ["SLURM_NTASKS"])

    def global_rank(self) -> int:
        return int(os.environ["SLURM_PROCID"])

    def local_rank(self) -> int:
        return int(os.environ.get("SLURM_LOCALID", 0))

    def node_rank(self) -> int:
        return int(os.environ.get("SLURM_NODEID", 0))


class MPIEnvironment(ClusterEnvironment):
    """Processes started by ``mpirun`` / ``mpiexec`` (Open MPI, MPICH, Intel MPI): ranks from the variables the
    MPI launcher sets. The main address and port come from ``MASTER_ADDR`` / ``MASTER_PORT`` when set, otherwise
    rank zero's host name and a free port are broadcast with ``mpi4py``."""

    name = "mpi"
    # (world size, global rank, local rank) variables of each MPI family
    _VARIABLES = (
        ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"),
        ("PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID"),
        ("PMIX_SIZE", "PMIX_RANK", "PMIX_LOCAL_RANK"),
    )

    def __init__(self, num_devices: int = 1, num_nodes: int = 1) -> None:
        super().__init__(num_devices, num_nodes)
        self._address: str | None = None
        self._port: int | None = None

    @classmethod
    def _family(cls) -> tuple[str, str, str] | None:
        return next((names for names in cls._VARIABLES if names[0] in os.environ and names[1] in os.environ), None)

    @staticmethod
    def detect() -> bool:
        names = MPIEnvironment._family()
        return names is not None and int(os.environ[names[0]]) > 1

    @property
    def creates_processes_externally(self) -> bool:
        return True

    def _rendezvous(self) -> None:
        if self._address is not None:
            return
        if "MASTER_ADDR" in os.environ and "MASTER_PORT" in os.environ:
            self._address, self._port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
            return
        try:
            from mpi4py import MPI
        except ImportError:
            raise RuntimeError(
                "MPIEnvironment needs the main process's address: set MASTER_ADDR and MASTER_PORT for every process "
                "(e.g. `mpirun -x MASTER_ADDR=host0 -x MASTER_PORT=29500 ...`), or `pip install mpi4py`."
            ) from None
        comm = MPI.COMM_WORLD
        mine = (socket.gethostname(), find_free_port()) if comm.Get_rank() == 0 else None
        self._address, self._port = comm.bcast(mine, root=0)

    @property
    def main_address(self) -> str:
        self._rendezvous()
        return self._address

    @property
    def main_port(self) -> int:
        self._rendezvous()
        return self._port

    def world_size(self) -> int:
        names = self._family()
        return int(os.environ[names[0]]) if names else super().world_size()

    def global_rank(self) -> int:
        names = self._family()
        return int(os.environ[names[1]]) if names else super().global_rank()

    def local_rank(self) -> int:
        names = self._family()
        if names and names[2] in os.environ:
            return int(os.environ[names[2]])
        return self.global_rank() % max(self.num_devices, 1)

    def node_rank(self) -> int:
        if "OMPI_COMM_WORLD_NODE_RANK" in os.environ:
            return int(os.environ["OMPI_COMM_WORLD_NODE_RANK"])
        return self.global_rank() // max(self.num_devices, 1)


def first_host(nodelist: str) -> str:
    """The first host of a SLURM node list such as ``gpu[07-09,12],cpu01`` (``gpu07``)."""
    m = re.match(r"([^,\[]+)(?:\[([^\]]+)\])?", nodelist.strip())
    if not m:
        return "127.0.0.1"
    prefix, ranges = m.group(1), m.group(2)
    if not ranges:
        return prefix
    return prefix + ranges.split(",")[0].split("-")[0]


def select_environment(num_devices: int, num_nodes: int) -> ClusterEnvironment:
    for cls in (TorchElasticEnvironment, SLURMEnvironment, MPIEnvironment):
        if cls.detect():
            return cls(num_devices, num_nodes)
    return ClusterEnvironment(num_devices, num_nodes)


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
