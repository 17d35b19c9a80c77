"""The command line of one rank, built from small pure functions, one per concern.

A rank command is ``[GPU selection] [profiling env] [nsys wrapper] PROGRAM``; the launcher
puts its own prefix (``srun ...``, ``jsrun ...``, ``mpiexec ...``) in front. Arguments are
plain strings, except :class:`ShellVar`, a variable the batch script expands; ``shell_join``
quotes every string with ``shlex.quote`` so no value is ever re-interpreted by the shell.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hpcarray.jobs.spec import JobSpec, Profiling, Program

DEFAULT_PROFILE_DIR = "hpcarray_prof"

# How ranks run their program: "python" runs ``python SCRIPT ARGS`` with profiling as
# HPCARRAY_* environment variables; "hpcarray-run" runs ``python -m hpcarray run FLAGS
# SCRIPT ARGS`` once that command drives a rank. Switch with RANK_PROGRAM_MODE.
RANK_PROGRAM_MODE = "python"


@dataclass(frozen=True)
class ShellVar:
    """A shell variable expanded by the batch script, e.g. ``"$HPCARRAY_HOSTFILE"``."""

    name: str

    def __str__(self) -> str:
        return f'"${self.name}"'


Arg = str | ShellVar


def shell_join(argv: Iterable[Arg]) -> str:
    """Join an argv for a shell: strings quoted, ShellVars expanded in double quotes."""
    return " ".join(str(a) if isinstance(a, ShellVar) else shlex.quote(a) for a in argv)


def gpu_select(local_rank_var: str | None) -> list[str]:
    """Wrapper that points CUDA_VISIBLE_DEVICES at the GPU of this node-local rank."""
    if not local_rank_var:
        return []
    body = f'CUDA_VISIBLE_DEVICES="${{{local_rank_var}}}" exec "$@"'
    return ["sh", "-c", body, "hpcarray-gpu-select"]


def profiling_env(profiling: Profiling) -> list[tuple[str, str]]:
    """HPCARRAY_* variables that turn on the profiling asked for."""
    env = []
    if profiling.profile_dir:
        env.append(("HPCARRAY_PROFILE", profiling.profile_dir))
    if profiling.dataflow:
        env.append(("HPCARRAY_DATAFLOW", "1"))
    if profiling.event:
        env.append(("HPCARRAY_EVENT", "1"))
    if profiling.nsys:
        env.append(("HPCARRAY_NVTX", "1"))
    return env


def profiling_flags(profiling: Profiling) -> list[str]:
    """The same profiling as ``hpcarray run`` flags."""
    flags = []
    if profiling.profile_dir:
        flags += ["--profile", profiling.profile_dir]
    if profiling.dataflow:
        flags.append("--dataflow")
    if profiling.event:
        flags.append("--event")
    return flags  # --nsys is the nsys wrapper plus HPCARRAY_NVTX=1, outside `hpcarray run`


def env_prefix(env: Sequence[tuple[str, str]]) -> list[str]:
    """``env K=V ...`` in front of a command (nothing when there is nothing to set)."""
    return ["env", *(f"{k}={v}" for k, v in env)] if env else []


def nsys_wrapper(profiling: Profiling, rank_var: str | None) -> list[str]:
    """``nsys profile`` around a rank, one report per rank in the profile directory."""
    if not profiling.nsys:
        return []
    outdir = profiling.profile_dir or DEFAULT_PROFILE_DIR
    rank = f"%q{{{rank_var}}}" if rank_var else "%p"
    return [
        "nsys",
        "profile",
        "--trace=cuda,nvtx,mpi,osrt",
        "--force-overwrite=true",
        f"--output={outdir}/nsys-rank{rank}",
    ]


def program_argv(program: Program, profiling: Profiling, mode: str = "") -> list[str]:
    """The program every rank runs."""
    mode = mode or RANK_PROGRAM_MODE
    if mode == "hpcarray-run":
        return [
            program.python,
            "-m",
            "hpcarray",
            "run",
            *profiling_flags(profiling),
            program.script,
            *program.args,
        ]
    return [program.python, program.script, *program.args]


def rank_command(spec: JobSpec, rank_var: str | None, local_rank_var: str | None) -> list[str]:
    """Everything after the launcher's own arguments, for one rank."""
    env = profiling_env(spec.profiling) if RANK_PROGRAM_MODE == "python" else []
    if spec.profiling.nsys and RANK_PROGRAM_MODE != "python":
        env = [("HPCARRAY_NVTX", "1")]
    # srun (--gpus-per-task=1) and jsrun (-g) bind a GPU per rank themselves; mpirun and
    # the local mpiexec do not, so there the rank's local index picks its GPU
    select = spec.resources.one_gpu_per_rank and (
        spec.launch.gpu_bind == "local-rank" or spec.launch.launcher in ("mpirun", "local"))
    return [
        *(gpu_select(local_rank_var) if select else []),
        *env_prefix(env),
        *nsys_wrapper(spec.profiling, rank_var),
        *program_argv(spec.program, spec.profiling),
    ]
