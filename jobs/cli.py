"""Command lines ``hpcarray submit`` and ``hpcarray jobs``: argparse wiring only.

``register(subparsers)`` is called by ``hpcarray.cli`` (which makes every argparse error one
line, exit status 2); the handlers live in :mod:`hpcarray.jobs.commands`, whose errors are
one line and exit status 2 too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from hpcarray.jobs.spec import LAUNCHERS, MPI_FLAVOURS, SCHEDULERS

DEFAULT_PROFILE_DIR = "hpcarray_prof"

SUBMIT_EPILOG = """\
examples:
  hpcarray submit --nodes 64 --gpus-per-node 8 stencil.py --size 4096
  hpcarray submit --machine perlmutter --account m1234 --dry-run stencil.py
  hpcarray submit --scheduler none --ranks-per-node 4 --wait stencil.py
  hpcarray jobs list; hpcarray jobs logs JOB; hpcarray jobs cancel JOB

Defaults come from the machine profile (--machine, $HPCARRAY_MACHINE, or detected: sbatch
on PATH means generic-slurm, bsub generic-lsf, else local). Add a machine by dropping
NAME.yaml into $HPCARRAY_MACHINES_DIR or ~/.config/hpcarray/machines/.
"""


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from hpcarray.jobs import commands
        from hpcarray.jobs.errors import JobError

        try:
            return int(getattr(commands, name)(args) or 0)
        except JobError as err:
            print(f"hpcarray: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("hpcarray: interrupted", file=sys.stderr)
            return 130

    return run


def _add_submit(sub: Any) -> None:
    p = sub.add_parser(
        "submit",
        help="submit a script as a batch job (Slurm, LSF, or local)",
        description="Submit `python SCRIPT ARGS` as a batch job, one rank per GPU.",
        epilog=SUBMIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r = p.add_argument_group("resources")
    r.add_argument("-N", "--nodes", type=int, help="number of nodes (default 1)")
    r.add_argument("--ranks-per-node", type=int, help="ranks per node (default: one per GPU)")
    r.add_argument("--gpus-per-node", type=int, help="GPUs per node (default: the machine's)")
    r.add_argument("--cpus-per-rank", type=int, help="CPU cores per rank")
    r.add_argument("-t", "--time", help="wall-time limit as Slurm writes it: MINUTES, "
                   "MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS")
    s = p.add_argument_group("machine and scheduler")
    s.add_argument("--machine", help="machine profile (see `hpcarray jobs machines`)")
    s.add_argument("--scheduler", choices=SCHEDULERS, help="batch system")
    s.add_argument("--launcher", choices=LAUNCHERS, help="how ranks are started")
    s.add_argument("--mpi", choices=MPI_FLAVOURS, help="MPI flavour (default: detected)")
    s.add_argument("-p", "--partition", help="partition (Slurm) or queue (LSF)")
    s.add_argument("-A", "--account", help="account / project to charge")
    s.add_argument("-q", "--qos", help="quality of service (Slurm)")
    s.add_argument("-J", "--job-name", help="job name (default: the script's name)")
    s.add_argument("-o", "--output-dir", help="where scripts and logs go (hpcarray_jobs)")
    s.add_argument(
        "--launcher-extra",
        metavar="ARGS",
        help="extra launcher arguments, one string: --launcher-extra='--exclusive'",
    )
    e = p.add_argument_group("environment")
    e.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    e.add_argument("--module", action="append", default=[], metavar="NAME")
    e.add_argument("--python", help="Python on the compute nodes (default: this one)")
    f = p.add_argument_group("profiling (passed to every rank)")
    f.add_argument(
        "--profile",
        nargs="?",
        const=DEFAULT_PROFILE_DIR,
        metavar="DIR",
        help=f"record a trace per rank in DIR (default {DEFAULT_PROFILE_DIR})",
    )
    f.add_argument("--nsys", action="store_true", help="wrap each rank in nsys profile")
    f.add_argument("--dataflow", action="store_true", help="record the dataflow graph")
    f.add_argument("--event", action="store_true", help="record the event graph")
    a = p.add_argument_group("action")
    a.add_argument("--dry-run", action="store_true", help="print script and command only")
    a.add_argument("--wait", action="store_true", help="follow the job; exit with its status")
    a.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    p.add_argument("script", nargs="?", metavar="SCRIPT", help="the Python program")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="its arguments")
    p.set_defaults(func=_handler("submit"))


def _add_jobs(sub: Any) -> None:
    p = sub.add_parser(
        "jobs",
        help="list, follow, and cancel jobs submitted from this directory",
        description="Jobs submitted from this directory (recorded in .hpcarray/jobs.jsonl).",
    )
    p.set_defaults(func=_handler("jobs_list"), all=False)
    js = p.add_subparsers(dest="jobs_command", metavar="ACTION")
    lst = js.add_parser("list", help="recorded jobs with their current state")
    lst.add_argument("--all", action="store_true", help="all jobs, not only the last 20")
    lst.set_defaults(func=_handler("jobs_list"))
    st = js.add_parser("status", help="state and exit code of a job (default: the last)")
    st.add_argument("job", nargs="?", metavar="JOB")
    st.add_argument("--wait", action="store_true", help="follow until it ends")
    st.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    st.set_defaults(func=_handler("jobs_status"))
    lg = js.add_parser("logs", help="the tail of a job's output (default: the last job)")
    lg.add_argument("job", nargs="?", metavar="JOB")
    lg.add_argument("-n", "--lines", type=int, default=40, help="lines to show (0: all)")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing until it ends")
    lg.set_defaults(func=_handler("jobs_logs"))
    cn = js.add_parser("cancel", help="cancel a job")
    cn.add_argument("job", metavar="JOB")
    cn.set_defaults(func=_handler("jobs_cancel"))
    mc = js.add_parser("machines", help="the machine profiles available")
    mc.set_defaults(func=_handler("jobs_machines"))


def register(subparsers: Any) -> None:
    """Add ``submit`` and ``jobs`` to the ``hpcarray`` command's subparsers."""
    _add_submit(subparsers)
    _add_jobs(subparsers)
