"""``hpcarray.jobs.submit``: the Python face of ``hpcarray submit``."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from hpcarray.jobs.build import build_spec
from hpcarray.jobs.errors import JobError
from hpcarray.jobs.job import Job, append_record
from hpcarray.jobs.schedulers import Scheduler, Submission, make_scheduler
from hpcarray.jobs.spec import JobSpec


def script_path(spec: JobSpec, suffix: str) -> str:
    """A fresh path for the batch script: OUTPUT_DIR/NAME.sbatch, NAME-1.sbatch, ..."""
    out = Path(spec.batch.output_dir)
    path = out / f"{spec.batch.job_name}{suffix}"
    n = 0
    while path.exists():
        n += 1
        path = out / f"{spec.batch.job_name}-{n}{suffix}"
    return str(path)


def plan(spec: JobSpec) -> tuple[Scheduler, Submission]:
    """Render the batch script and the submit command, touching nothing."""
    sched = make_scheduler(spec)
    path = script_path(spec, sched.suffix)
    text = sched.render(path)
    return sched, Submission(path, text, sched.submit_line(path), sched.output_pattern(path))


def submit_spec(
    spec: JobSpec, dry_run: bool = False, record_dir: str | None = None
) -> Job | Submission:
    """Submit a JobSpec (or, with ``dry_run``, return what would be submitted)."""
    sched, sub = plan(spec)
    if dry_run:
        return sub
    if spec.launch.scheduler != "none" and not sched.available():
        raise JobError(
            f"{sched.command_name} not found: cannot submit to {sched.name} "
            "(use --dry-run to see the script)"
        )
    try:
        Path(spec.batch.output_dir).mkdir(parents=True, exist_ok=True)
        Path(sub.script_path).write_text(sub.script, encoding="utf-8")
        os.chmod(sub.script_path, 0o755)
    except OSError as err:
        raise JobError(f"cannot write {sub.script_path}: {err}") from None
    done = sched.run_submit(sub.script_path)
    record = {
        "id": done.job_id,
        "scheduler": spec.launch.scheduler,
        "launcher": spec.launch.launcher,
        "machine": spec.machine,
        "name": spec.batch.job_name,
        "script": spec.program.script,
        "args": list(spec.program.args),
        "batch_script": done.script_path,
        "output": done.output,
        "pid": done.pid,
        "nodes": spec.resources.nodes,
        "ranks": spec.resources.ranks,
        "workdir": spec.workdir,
        "submitted": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    append_record(record, record_dir or spec.workdir)
    return Job(record)


def submit(script: str, *args: str, dry_run: bool = False, **options: Any) -> Job | Submission:
    """Submit ``python SCRIPT ARGS`` as a batch job; return a :class:`Job` handle.

    Keyword options are those of ``hpcarray submit`` with underscores (``nodes``,
    ``ranks_per_node``, ``gpus_per_node``, ``machine``, ``env={"K": "V"}`` ...). With
    ``dry_run=True`` nothing is submitted and the planned :class:`Submission` is returned.
    """
    spec = build_spec(script, [str(a) for a in args], **options)
    return submit_spec(spec, dry_run=dry_run)
