"""JobSpec: everything a batch job needs, as frozen dataclasses grouped by concern.

A JobSpec is plain data: launchers and schedulers read it, nothing mutates it. It is built
from command-line options (or keyword arguments) and a machine profile by
:func:`hpcarray.jobs.build.build_spec`, which validates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LAUNCHERS = ("local", "mpirun", "srun", "jsrun")
SCHEDULERS = ("none", "slurm", "lsf")
MPI_FLAVOURS = ("mpich", "openmpi")
GPU_BINDINGS = ("per-task", "local-rank", "none")


@dataclass(frozen=True)
class Resources:
    """How much of the machine: nodes, ranks and GPUs per node, CPU cores per rank."""

    nodes: int = 1
    ranks_per_node: int = 1
    gpus_per_node: int = 0
    cpus_per_rank: int = 1
    threads_per_core: int = 1  # Slurm's --cpus-per-task counts hardware threads

    @property
    def slurm_cpus_per_rank(self) -> int:
        return self.cpus_per_rank * self.threads_per_core

    @property
    def ranks(self) -> int:
        return self.nodes * self.ranks_per_node

    @property
    def one_gpu_per_rank(self) -> bool:
        return self.gpus_per_node > 0 and self.gpus_per_node == self.ranks_per_node


@dataclass(frozen=True)
class Program:
    """What every rank runs: ``python SCRIPT ARGS...``."""

    script: str
    args: tuple[str, ...] = ()
    python: str = "python3"


@dataclass(frozen=True)
class Environment:
    """Environment modules to load and variables to export before launching."""

    modules: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Profiling:
    """Profiling asked for on the command line, passed through to every rank."""

    profile_dir: str | None = None
    nsys: bool = False
    dataflow: bool = False
    event: bool = False

    @property
    def any(self) -> bool:
        return bool(self.profile_dir or self.nsys or self.dataflow or self.event)


@dataclass(frozen=True)
class Batch:
    """Scheduler-facing settings: name, limits, where the output goes."""

    job_name: str
    output_dir: str
    time: str | None = None
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    directives: tuple[str, ...] = ()  # extra scheduler directives from the machine profile
    lsf_style: str = "slots"  # "slots" (-n/-R span) or "nnodes" (CSM, jsrun machines)


@dataclass(frozen=True)
class Launch:
    """How ranks are started: launcher, MPI flavour, binding, extra launcher arguments."""

    launcher: str = "local"
    scheduler: str = "none"
    mpi: str = "mpich"
    srun_mpi: str | None = None  # explicit srun --mpi= plugin (site-specific, e.g. cray_shasta)
    gpu_bind: str = "per-task"
    cpu_bind: str | None = None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobSpec:
    """A whole job: resources, program, environment, profiling, batch and launch settings."""

    resources: Resources
    program: Program
    batch: Batch
    environment: Environment = field(default_factory=Environment)
    profiling: Profiling = field(default_factory=Profiling)
    launch: Launch = field(default_factory=Launch)
    workdir: str = "."
    machine: str = "local"
    # What building the job found out or had to assume (one line each): comments in the
    # script, and shown by `hpcarray submit`.
    notes: tuple[str, ...] = ()
