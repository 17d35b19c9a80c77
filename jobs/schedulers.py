"""Schedulers: one class per batch system (none, Slurm, LSF).

A scheduler renders the batch script from a Jinja2 template (``jobs/templates/``), knows the
command that submits it and how to read the job id back. Querying and cancelling a job
that already exists lives in :mod:`hpcarray.jobs.tracking`, which needs no JobSpec.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import jinja2
from hpcarray.jobs.errors import JobError
from hpcarray.jobs.launchers import Launcher, make_launcher
from hpcarray.jobs.spec import JobSpec
from hpcarray.jobs.timefmt import lsf_walltime

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("hpcarray.jobs", "templates"),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["q"] = shlex.quote


@dataclass(frozen=True)
class Submission:
    """What ``submit`` did (or, for a dry run, would do)."""

    script_path: str
    script: str
    command: str  # the submit command, as a shell line
    output: str  # the job's log file (a pattern before the id is known)
    job_id: str | None = None
    pid: int | None = None


class Scheduler:
    """Base class: directives + template -> script; submit command -> job id."""

    name: ClassVar[str] = ""
    template: ClassVar[str] = ""
    suffix: ClassVar[str] = ".sh"
    command_name: ClassVar[str] = ""
    id_pattern: ClassVar[str] = "%j"

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self.launcher: Launcher = make_launcher(spec)

    # -- rendering -------------------------------------------------------------------
    def directives(self, script_path: str) -> list[str]:
        return []

    def hostlist_command(self) -> str:
        return "hostname"

    def output_pattern(self, script_path: str) -> str:
        batch = self.spec.batch
        return str(Path(batch.output_dir) / f"{Path(script_path).stem}-{self.id_pattern}.out")

    def render(self, script_path: str) -> str:
        spec, res = self.spec, self.spec.resources
        context = {
            "machine": spec.machine,
            "notes": spec.notes,
            "nodes": res.nodes,
            "ranks_per_node": res.ranks_per_node,
            "gpus_per_node": res.gpus_per_node,
            "workdir": spec.workdir,
            "modules": spec.environment.modules,
            "env": spec.environment.env,
            "directives": self.directives(script_path),
            "setup": self.launcher.setup(self.hostlist_command()),
            "launch": self.launcher.command(),
        }
        return _ENV.get_template(self.template).render(**context)

    # -- submitting ------------------------------------------------------------------
    def submit_argv(self, script_path: str) -> list[str]:
        return [self.command_name, script_path]

    def submit_line(self, script_path: str) -> str:
        return shlex.join(self.submit_argv(script_path))

    def available(self) -> bool:
        return shutil.which(self.command_name) is not None

    def parse_id(self, stdout: str) -> str:
        raise NotImplementedError

    def run_submit(self, script_path: str) -> Submission:
        if not self.available():
            raise JobError(
                f"{self.command_name} not found: cannot submit to {self.name} "
                "(use --dry-run to see the script)"
            )
        argv = self.submit_argv(script_path)
        stdin = open(script_path, "rb") if self.name == "lsf" else subprocess.DEVNULL
        try:
            proc = subprocess.run(argv, stdin=stdin, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise JobError(f"{self.command_name} failed: {err}") from None
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close()
        if proc.returncode != 0:
            why = (proc.stderr.strip() or proc.stdout.strip() or "no message").splitlines()[-1]
            raise JobError(f"{self.command_name} failed (exit {proc.returncode}): {why}")
        job_id = self.parse_id(proc.stdout)
        out = self.output_pattern(script_path).replace(self.id_pattern, job_id)
        text = Path(script_path).read_text()
        return Submission(script_path, text, self.submit_line(script_path), out, job_id)


class NoScheduler(Scheduler):
    """No batch system: the script runs here, in the background, detached."""

    name = "none"
    template = "none.sh.j2"
    command_name = "bash"
    id_pattern = "local"

    def output_pattern(self, script_path: str) -> str:
        return str(Path(script_path).with_suffix(".out"))

    def run_submit(self, script_path: str) -> Submission:
        out = self.output_pattern(script_path)
        status = str(Path(script_path).with_suffix(".status"))
        wrapper = 'bash "$1" > "$2" 2>&1; echo $? > "$3.tmp"; mv "$3.tmp" "$3"'
        try:
            proc = subprocess.Popen(
                ["bash", "-c", wrapper, "hpcarray-job", script_path, out, status],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as err:
            raise JobError(f"cannot start {script_path}: {err}") from None
        text = Path(script_path).read_text()
        job_id = f"local-{proc.pid}"
        return Submission(script_path, text, self.submit_line(script_path), out, job_id, proc.pid)


class SlurmScheduler(Scheduler):
    """Slurm: an sbatch script with #SBATCH directives, submitted with sbatch --parsable."""

    name = "slurm"
    template = "slurm.sbatch.j2"
    suffix = ".sbatch"
    command_name = "sbatch"

    def directives(self, script_path: str) -> list[str]:
        res, batch = self.spec.resources, self.spec.batch
        out = [
            f"--job-name={batch.job_name}",
            f"--nodes={res.nodes}",
            f"--ntasks-per-node={res.ranks_per_node}",
            f"--cpus-per-task={res.slurm_cpus_per_rank}",
        ]
        if res.gpus_per_node:
            out.append(f"--gpus-per-node={res.gpus_per_node}")
        for opt, value in (
            ("time", batch.time),
            ("partition", batch.partition),
            ("account", batch.account),
            ("qos", batch.qos),
        ):
            if value:
                out.append(f"--{opt}={value}")
        out.append(f"--output={self.output_pattern(script_path)}")
        return out + list(batch.directives)

    def hostlist_command(self) -> str:
        return 'scontrol show hostnames "$SLURM_JOB_NODELIST"'

    def submit_argv(self, script_path: str) -> list[str]:
        return ["sbatch", "--parsable", script_path]

    def parse_id(self, stdout: str) -> str:
        m = re.match(r"\s*(\d+)", stdout)
        if not m:
            raise JobError(f"sbatch printed no job id: {stdout.strip()!r}")
        return m.group(1)


class LsfScheduler(Scheduler):
    """LSF: a bsub script with #BSUB directives, submitted with ``bsub < script``."""

    name = "lsf"
    template = "lsf.bsub.j2"
    suffix = ".bsub"
    command_name = "bsub"
    id_pattern = "%J"

    def __init__(self, spec: JobSpec) -> None:
        if spec.batch.qos:
            raise JobError("LSF has no QoS: choose the queue with --partition")
        super().__init__(spec)

    def directives(self, script_path: str) -> list[str]:
        res, batch = self.spec.resources, self.spec.batch
        out = [f"-J {batch.job_name}"]
        if batch.lsf_style == "nnodes":
            out.append(f"-nnodes {res.nodes}")
        else:
            out.append(f"-n {res.ranks}")
            out.append(f'-R "span[ptile={res.ranks_per_node}]"')
            if res.gpus_per_node:
                out.append(f'-gpu "num={res.gpus_per_node}"')
        if batch.time:
            out.append(f"-W {lsf_walltime(batch.time)}")
        if batch.account:
            out.append(f"-P {batch.account}")
        if batch.partition:
            out.append(f"-q {batch.partition}")
        out.append(f"-o {self.output_pattern(script_path)}")
        return out + list(batch.directives)

    def hostlist_command(self) -> str:
        # $LSB_DJOB_HOSTFILE has one line per slot: keep each host once, in order
        return "awk '!seen[$0]++' \"$LSB_DJOB_HOSTFILE\""

    def submit_argv(self, script_path: str) -> list[str]:
        return ["bsub"]

    def submit_line(self, script_path: str) -> str:
        return f"bsub < {shlex.quote(script_path)}"

    def parse_id(self, stdout: str) -> str:
        m = re.search(r"Job <(\d+)>", stdout)
        if not m:
            raise JobError(f"bsub printed no job id: {stdout.strip()!r}")
        return m.group(1)


SCHEDULERS: dict[str, type[Scheduler]] = {
    cls.name: cls for cls in (NoScheduler, SlurmScheduler, LsfScheduler)
}


def make_scheduler(spec: JobSpec) -> Scheduler:
    """The scheduler named by ``spec.launch.scheduler`` (with its launcher)."""
    try:
        cls = SCHEDULERS[spec.launch.scheduler]
    except KeyError:
        raise JobError(f"unknown scheduler {spec.launch.scheduler!r}") from None
    return cls(spec)
