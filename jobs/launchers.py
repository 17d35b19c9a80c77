"""Launchers: one class per way of starting ranks (local, mpirun, srun, jsrun).

A launcher turns a JobSpec into the argv that starts all ranks, plus the shell lines it
needs before that (a host file for mpirun). It knows which environment variables hold a
rank's global and node-local index, which the rank command uses for GPU selection and
per-rank nsys reports.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from hpcarray.jobs.errors import JobError
from hpcarray.jobs.rank import Arg, ShellVar, rank_command, shell_join
from hpcarray.jobs.spec import JobSpec

HOSTFILE_VAR = "HPCARRAY_HOSTFILE"
SRUN_MPI_PLUGIN = {"mpich": "pmi2", "openmpi": "pmix"}


def find_mpiexec() -> str | None:
    """The mpiexec next to this Python (the mpich wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file():
        return str(beside)
    return shutil.which("mpiexec")


def local_launch_argv(ranks: int, program: list[str], mpiexec: str | None = None,
                      extra: Sequence[str] = ()) -> list[str]:
    """Start ``ranks`` copies of ``program`` on this machine (the switchable local launcher):
    one rank runs it directly, unless there are launcher arguments (``extra``), which go to
    the wheel's mpiexec, the launcher, as they would with several ranks."""
    if ranks == 1 and not extra:
        return list(program)
    mpiexec = mpiexec or find_mpiexec()
    if not mpiexec:
        why = f"{ranks} local ranks need" if ranks > 1 else "--launcher-extra needs"
        raise JobError(f"{why} mpiexec: pip install 'hpcarray[mpi]' (the mpich wheel)")
    return [mpiexec, "-n", str(ranks), *extra, *program]


class Launcher:
    """Base class: ``argv(spec)`` = ``prefix(spec)`` + the rank command."""

    name: ClassVar[str] = ""
    schedulers: ClassVar[tuple[str, ...]] = ("none", "slurm", "lsf")
    rank_var: str | None = None
    local_rank_var: str | None = None

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self.check()

    def check(self) -> None:
        """Raise JobError if this launcher cannot run the spec."""
        if self.spec.launch.scheduler not in self.schedulers:
            raise JobError(
                f"launcher {self.name} does not work with scheduler "
                f"{self.spec.launch.scheduler} (use one of: {', '.join(self.schedulers)})"
            )

    def prefix(self) -> list[Arg]:
        raise NotImplementedError

    def setup(self, hostlist_command: str) -> list[str]:
        """Shell lines the batch script runs before launching."""
        return []

    def argv(self) -> list[Arg]:
        extra = list(self.spec.launch.extra)
        rank = rank_command(self.spec, self.rank_var, self.local_rank_var)
        return [*self.prefix(), *extra, *rank]

    def command(self) -> str:
        return shell_join(self.argv())


class LocalLauncher(Launcher):
    """Ranks on this machine: python directly, or the wheel's mpiexec for several ranks."""

    name = "local"
    schedulers = ("none",)
    rank_var = "PMI_RANK"
    local_rank_var = "MPI_LOCALRANKID"

    def check(self) -> None:
        super().check()
        if self.spec.resources.nodes != 1:
            raise JobError("the local launcher runs on one node: use --nodes 1")
        # raises when mpiexec is missing
        local_launch_argv(self.spec.resources.ranks, [], extra=self.spec.launch.extra)

    def argv(self) -> list[Arg]:
        rank = rank_command(self.spec, self.rank_var, self.local_rank_var)
        return local_launch_argv(self.spec.resources.ranks, rank, extra=self.spec.launch.extra)


class MpirunLauncher(Launcher):
    """mpirun/mpiexec over the scheduler's host list, Open MPI or MPICH (Hydra) flavour."""

    name = "mpirun"

    def __init__(self, spec: JobSpec) -> None:
        if spec.launch.mpi == "openmpi":
            self.rank_var = "OMPI_COMM_WORLD_RANK"
            self.local_rank_var = "OMPI_COMM_WORLD_LOCAL_RANK"
        else:
            self.rank_var, self.local_rank_var = "PMI_RANK", "MPI_LOCALRANKID"
        super().__init__(spec)

    def setup(self, hostlist_command: str) -> list[str]:
        return [
            f'{HOSTFILE_VAR}="$(mktemp)"',
            f"trap 'rm -f \"${HOSTFILE_VAR}\"' EXIT",
            f'{hostlist_command} > "${HOSTFILE_VAR}"',
        ]

    def prefix(self) -> list[Arg]:
        res, launch = self.spec.resources, self.spec.launch
        hosts = ShellVar(HOSTFILE_VAR)
        if launch.mpi == "openmpi":
            argv: list[Arg] = ["mpirun", "-np", str(res.ranks)]
            argv += ["-npernode", str(res.ranks_per_node), "--hostfile", hosts]
            argv += ["--bind-to", "core"] if launch.cpu_bind else ["--bind-to", "none"]
            for key, _ in self.spec.environment.env:  # Open MPI forwards only what -x names
                argv += ["-x", key]
        else:
            argv = ["mpiexec", "-n", str(res.ranks), "-ppn", str(res.ranks_per_node), "-f", hosts]
            if launch.cpu_bind:
                argv += ["-bind-to", "core"]
        return argv


class SrunLauncher(Launcher):
    """Slurm's srun inside the allocation, with the PMI plugin of the MPI in use."""

    name = "srun"
    schedulers = ("slurm",)
    rank_var = "SLURM_PROCID"
    local_rank_var = "SLURM_LOCALID"

    def prefix(self) -> list[Arg]:
        res, launch = self.spec.resources, self.spec.launch
        plugin = launch.srun_mpi or SRUN_MPI_PLUGIN[launch.mpi]
        # A rank that exits with an error (even in MPI_Init) ends the whole step at once,
        # instead of leaving the others waiting for it until the time limit.
        argv: list[Arg] = [
            "srun",
            "--kill-on-bad-exit=1",
            f"--mpi={plugin}",
            f"--nodes={res.nodes}",
            f"--ntasks={res.ranks}",
            f"--ntasks-per-node={res.ranks_per_node}",
            f"--cpus-per-task={res.slurm_cpus_per_rank}",
        ]
        if res.one_gpu_per_rank and launch.gpu_bind == "per-task":
            argv.append("--gpus-per-task=1")
        if launch.cpu_bind:
            argv.append(f"--cpu-bind={launch.cpu_bind}")
        return argv


class JsrunLauncher(Launcher):
    """IBM jsrun (LSF with CSM): one resource set per rank, -a1 -gG -cC."""

    name = "jsrun"
    schedulers = ("lsf",)
    rank_var = "JSM_NAMESPACE_RANK"
    local_rank_var = "JSM_NAMESPACE_LOCAL_RANK"

    def check(self) -> None:
        super().check()
        res = self.spec.resources
        if res.gpus_per_node % res.ranks_per_node:
            raise JobError(
                "jsrun resource sets need gpus-per-node to be a multiple of ranks-per-node"
            )

    def prefix(self) -> list[Arg]:
        res = self.spec.resources
        c = str(res.cpus_per_rank)
        return [
            "jsrun",
            "-n", str(res.ranks),
            "-r", str(res.ranks_per_node),
            "-a", "1",
            "-c", c,
            "-g", str(res.gpus_per_node // res.ranks_per_node),
            "-b", f"packed:{c}",
            "-d", "packed",
        ]  # fmt: skip


LAUNCHERS: dict[str, type[Launcher]] = {
    cls.name: cls for cls in (LocalLauncher, MpirunLauncher, SrunLauncher, JsrunLauncher)
}


def make_launcher(spec: JobSpec) -> Launcher:
    """The launcher named by ``spec.launch.launcher``."""
    try:
        cls = LAUNCHERS[spec.launch.launcher]
    except KeyError:
        raise JobError(f"unknown launcher {spec.launch.launcher!r}") from None
    return cls(spec)
