"""Turn options (command line or keyword arguments) plus a machine profile into a JobSpec.

Precedence for every setting: explicit option > machine profile > detection. The machine
itself is ``--machine``, else ``$HPCARRAY_MACHINE``, else detected from the commands on PATH
(sbatch: generic-slurm, bsub: generic-lsf, neither: local).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from hpcarray.jobs import machines
from hpcarray.jobs.errors import JobError
from hpcarray.jobs.machines import MachineProfile
from hpcarray.jobs.schedulers import make_scheduler
from hpcarray.jobs.spec import (
    LAUNCHERS,
    MPI_FLAVOURS,
    SCHEDULERS,
    Batch,
    Environment,
    JobSpec,
    Launch,
    Profiling,
    Program,
    Resources,
)
from hpcarray.jobs.timefmt import minutes

from hpcarray.runtime.config import SETTINGS, SettingError, parse_setting

DEFAULT_OUTPUT_DIR = "hpcarray_jobs"
NATURAL_LAUNCHER = {"slurm": "srun", "lsf": "mpirun", "none": "local"}
GPU_ENV = (("HPCARRAY_BACKEND", "cupy"),)
_SAFE = re.compile(r"^[A-Za-z0-9_.,:@%+=/-]+$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SINFO = "sinfo"  # Slurm's command that describes the nodes (found on PATH)
SINFO_TIMEOUT = 10  # seconds: a cluster that cannot answer in this time is not asked


def detect_scheduler() -> str:
    """slurm if sbatch is on PATH, lsf if bsub is, else none."""
    if shutil.which("sbatch"):
        return "slurm"
    if shutil.which("bsub"):
        return "lsf"
    return "none"


def detect_machine() -> str:
    env = os.environ.get("HPCARRAY_MACHINE")
    if env:
        return env
    return {"slurm": "generic-slurm", "lsf": "generic-lsf"}.get(detect_scheduler(), "local")


def detect_mpi() -> str | None:
    """The MPI flavour mpi4py was built with (None without mpi4py)."""
    try:
        import mpi4py  # type: ignore[import-not-found]

        vendor = str(mpi4py.get_vendor()[0]).lower()
    except Exception:
        return None
    if "open mpi" in vendor or "spectrum" in vendor:
        return "openmpi"
    return "mpich"  # MPICH, Intel MPI, MVAPICH, Cray MPICH: PMI-2 compatible


def slurm_node_cpus(partition: str | None) -> tuple[int | None, str]:
    """The CPUs of one node of Slurm partition `partition` (None: the cluster's default),
    asked of the cluster with sinfo: (the smallest node's count, where it came from), or
    (None, why it could not be read). Slurm counts hardware threads as CPUs."""
    sinfo = shutil.which(SINFO)
    if sinfo is None:
        return None, f"{SINFO} not found on PATH"
    argv = [sinfo, "--noheader", "--format=%P %c"]
    if partition:
        argv.append(f"--partition={partition}")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=SINFO_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"sinfo gave no answer in {SINFO_TIMEOUT} s"
    except OSError as err:
        return None, f"sinfo could not run: {err.strerror or err}"
    if proc.returncode:
        said = proc.stderr.strip().splitlines()
        return None, f"sinfo failed: {said[-1] if said else f'exit status {proc.returncode}'}"
    rows = []
    for line in proc.stdout.splitlines():
        name, _, cpus = line.strip().partition(" ")
        cpus = cpus.strip().rstrip("+")  # "64+": nodes of 64 CPUs or more (sinfo's minimum)
        if cpus.isdigit() and int(cpus) > 0:
            rows.append((name, int(cpus)))
    if not partition:  # the default partition is marked with a star
        rows = [r for r in rows if r[0].endswith("*")] or rows
    if not rows:
        return None, "sinfo listed no nodes" + (f" in partition {partition}" if partition else "")
    cpus = min(c for _, c in rows)  # the ranks must fit on every node
    names = ",".join(sorted({name.rstrip("*") for name, _ in rows}))
    return cpus, f"sinfo: {cpus} CPUs per node (partition {names})"


def parse_env(items: Iterable[str] | Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` strings (or a mapping) as validated pairs."""
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        pairs = []
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep:
                raise JobError(f"malformed --env {item!r}: expected KEY=VALUE")
            pairs.append((key, value))
    for key, value in pairs:
        if not _ENV_KEY.match(key):
            raise JobError(f"malformed --env key {key!r}: letters, digits and _ only")
        # hpcarray's settings fail here, not at the ranks' import; a profile directory
        # is the compute nodes' to make
        if key in SETTINGS and key != "HPCARRAY_PROFILE" and value:
            try:
                parse_setting(key, value)
            except SettingError as err:
                raise JobError(f"bad --env {err}") from None
    return tuple(pairs)


def _merge_env(*groups: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    merged: dict[str, str] = {}
    for group in groups:
        for key, value in group:
            merged.pop(key, None)
            merged[key] = value
    return tuple(merged.items())


def _safe(option: str, value: str | None) -> str | None:
    if value is not None and not _SAFE.match(value):
        raise JobError(f"invalid {option} {value!r}: letters, digits and _.,:@%+=/- only")
    return value


def _positive(option: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 1):
        raise JobError(f"{option} must be a positive whole number, not {value!r}")


def _resources(
    profile: MachineProfile,
    nodes: int | None,
    ranks_per_node: int | None,
    gpus_per_node: int | None,
    cpus_per_rank: int | None,
    node_cpus: Callable[[], int | None] | None = None,
) -> Resources:
    """`node_cpus`: asks the cluster for a node's CPUs where the profile does not know."""
    for option, value in (
        ("--nodes", nodes),
        ("--ranks-per-node", ranks_per_node),
        ("--cpus-per-rank", cpus_per_rank),
    ):
        _positive(option, value)
    if gpus_per_node is not None and (not isinstance(gpus_per_node, int) or gpus_per_node < 0):
        raise JobError(f"--gpus-per-node must be a whole number, not {gpus_per_node!r}")
    gpus = gpus_per_node if gpus_per_node is not None else (profile.gpus_per_node or 0)
    if profile.gpus_per_node is not None and gpus > profile.gpus_per_node:
        raise JobError(
            f"--gpus-per-node {gpus} exceeds the {profile.gpus_per_node} GPUs per node "
            f"of machine {profile.name}"
        )
    ranks = ranks_per_node or (gpus if gpus else (profile.ranks_per_node or 1))
    cores = profile.cores_per_node
    if cpus_per_rank is None:
        if profile.cpus_per_rank and ranks == profile.ranks_per_node:
            cpus_per_rank = profile.cpus_per_rank
        elif cores:
            cpus_per_rank = max(cores // ranks, 1)
        elif profile.cpus_per_rank:
            cpus_per_rank = profile.cpus_per_rank
        else:
            cpus = node_cpus() if node_cpus else None
            per_core = ranks * profile.threads_per_core
            cpus_per_rank = max(cpus // per_core, 1) if cpus else 1
    if cores and ranks * cpus_per_rank > cores:
        raise JobError(
            f"{ranks} ranks x {cpus_per_rank} cores exceed the {cores} cores per node "
            f"of machine {profile.name}"
        )
    return Resources(nodes or 1, ranks, gpus, cpus_per_rank, profile.threads_per_core)


def build_spec(
    script: str,
    args: Sequence[str] = (),
    *,
    machine: str | None = None,
    nodes: int | None = None,
    ranks_per_node: int | None = None,
    gpus_per_node: int | None = None,
    cpus_per_rank: int | None = None,
    launcher: str | None = None,
    scheduler: str | None = None,
    mpi: str | None = None,
    time: str | None = None,
    partition: str | None = None,
    account: str | None = None,
    qos: str | None = None,
    job_name: str | None = None,
    output_dir: str | None = None,
    env: Iterable[str] | Mapping[str, str] = (),
    modules: Sequence[str] = (),
    launcher_extra: str | Sequence[str] | None = None,
    profile: str | None = None,
    nsys: bool = False,
    dataflow: bool = False,
    event: bool = False,
    python: str | None = None,
    workdir: str | None = None,
) -> JobSpec:
    """Validate options against the machine profile and build the JobSpec."""
    prof = machines.load(machine or detect_machine())
    workdir = os.path.abspath(workdir or os.getcwd())
    if not script or not (Path(workdir) / script).is_file():
        raise JobError(f"script not found: {script}")
    sched = scheduler or prof.scheduler or detect_scheduler()
    if sched not in SCHEDULERS:
        raise JobError(f"unknown scheduler {sched!r} (use one of: {', '.join(SCHEDULERS)})")
    same = prof.scheduler in (None, sched)
    launch_name = launcher or (prof.launcher if same and prof.launcher else None)
    launch_name = launch_name or NATURAL_LAUNCHER[sched]
    if launch_name not in LAUNCHERS:
        raise JobError(f"unknown launcher {launch_name!r} (use one of: {', '.join(LAUNCHERS)})")
    if mpi is not None and mpi not in MPI_FLAVOURS:
        raise JobError(f"unknown MPI {mpi!r} (use one of: {', '.join(MPI_FLAVOURS)})")
    if isinstance(launcher_extra, str):
        try:
            extra = tuple(shlex.split(launcher_extra))
        except ValueError as err:
            raise JobError(f"malformed --launcher-extra: {err}") from None
    else:
        extra = tuple(launcher_extra or ())
    if launch_name == prof.launcher:
        extra = prof.launcher_args + extra
    partition = _safe("--partition", partition or prof.partition)
    asked: list[tuple[int | None, str]] = []

    def node_cpus() -> int | None:
        # A generic profile does not know the node: a Slurm cluster is asked (sinfo).
        if sched == "slurm":
            asked.append(slurm_node_cpus(partition))
            return asked[0][0]
        return None

    res = _resources(prof, nodes, ranks_per_node, gpus_per_node, cpus_per_rank, node_cpus)
    notes = []
    for cpus, how in asked:
        notes.append(f"{res.cpus_per_rank} CPU core(s) per rank: {how}, "
                     f"{res.ranks_per_node} rank(s) per node" if cpus else
                     f"1 CPU core per rank: the node's size is unknown ({how}); "
                     "give --cpus-per-rank to use more")
    if sched == "none" and res.nodes != 1:
        raise JobError("without a scheduler (--scheduler none) a job runs on one node: --nodes 1")
    time = time or prof.time
    if time:
        minutes(time)
    name = job_name or re.sub(r"[^A-Za-z0-9_.-]", "_", Path(script).stem) or "job"
    out_dir = os.path.join(workdir, output_dir or DEFAULT_OUTPUT_DIR)
    if not _SAFE.match(out_dir):
        raise JobError(f"invalid --output-dir {out_dir!r}: no spaces or quotes in the path")
    spec = JobSpec(
        resources=res,
        program=Program(script, tuple(args), python or prof.python or sys.executable),
        batch=Batch(
            job_name=_safe("--job-name", name) or "job",
            output_dir=os.path.normpath(out_dir),
            time=_safe("--time", time),
            partition=partition,
            account=_safe("--account", account or prof.account),
            qos=_safe("--qos", qos or prof.qos),
            directives=prof.directives,
            lsf_style=prof.lsf_style,
        ),
        environment=Environment(
            modules=prof.modules + tuple(modules),
            # GPUs asked for: the ranks compute on them (one each); --env may say otherwise
            env=_merge_env(GPU_ENV if res.gpus_per_node else (), prof.env, parse_env(env)),
        ),
        profiling=Profiling(profile, nsys, dataflow, event),
        launch=Launch(
            launcher=launch_name,
            scheduler=sched,
            mpi=mpi or detect_mpi() or prof.mpi,
            srun_mpi=None if mpi else prof.srun_mpi,
            gpu_bind=prof.gpu_bind,
            cpu_bind=prof.cpu_bind,
            extra=extra,
        ),
        workdir=workdir,
        machine=prof.name,
        notes=tuple(n.replace("\n", " ") for n in notes),
    )
    make_scheduler(spec)  # raises JobError if the launcher/scheduler cannot run it
    return spec
