"""Helpers for ``hpcarray run --nsys``: the ``nsys profile`` prefix for each rank."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence

DEFAULT_TRACE = ("nvtx", "cuda", "mpi", "osrt")

# The environment variable that holds the rank, per launcher; nsys expands %q{VAR}.
RANK_VARS = {
    "mpich": "PMI_RANK",
    "hydra": "PMI_RANK",
    "mpiexec": "PMI_RANK",
    "intelmpi": "PMI_RANK",
    "openmpi": "OMPI_COMM_WORLD_RANK",
    "ompi": "OMPI_COMM_WORLD_RANK",
    "slurm": "SLURM_PROCID",
    "srun": "SLURM_PROCID",
    "pmix": "PMIX_RANK",
    "lsf": "OMPI_COMM_WORLD_RANK",  # jsrun/mpirun on LSF machines use Open MPI (Spectrum)
}
MPI_IMPL = {"mpich": "mpich", "hydra": "mpich", "mpiexec": "mpich", "intelmpi": "mpich",
            "openmpi": "openmpi", "ompi": "openmpi", "lsf": "openmpi"}

INSTALL_HINT = ("nsys (NVIDIA Nsight Systems) is not on PATH: install Nsight Systems "
                "(https://developer.nvidia.com/nsight-systems, or the CUDA toolkit's nsys; "
                "on clusters often `module load nsight-systems`) or run without --nsys")


def rank_var(launcher: str) -> str:
    """The rank environment variable for a launcher name (default: PMI_RANK)."""
    return RANK_VARS.get(launcher.lower(), "PMI_RANK")


def nsys_prefix(
    out_dir: str,
    *,
    rank: int | None = None,
    launcher: str = "mpich",
    trace: Sequence[str] = DEFAULT_TRACE,
    extra: Sequence[str] = (),
) -> list[str]:
    """The argv to put before ``python script.py`` for one rank.

    With ``rank`` given, the report is ``<out_dir>/nsys_rank<rank>``; otherwise nsys fills
    the rank in at run time from the launcher's variable, e.g. ``nsys_rank%q{PMI_RANK}``,
    so one command line serves every rank.
    """
    name = f"nsys_rank{rank}" if rank is not None else f"nsys_rank%q{{{rank_var(launcher)}}}"
    out = f"{out_dir.rstrip('/')}/{name}" if out_dir else name
    argv = ["nsys", "profile", f"--trace={','.join(trace)}", f"--output={out}",
            "--force-overwrite=true"]
    impl = MPI_IMPL.get(launcher.lower())
    if "mpi" in trace and impl:
        argv.append(f"--mpi-impl={impl}")
    return argv + list(extra)


def check_nsys(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """None when ``nsys`` is on PATH, else a message saying how to get it."""
    return None if which("nsys") else INSTALL_HINT
