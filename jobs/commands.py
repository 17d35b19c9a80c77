"""Handlers of ``hpcarray submit`` and ``hpcarray jobs ...`` (argparse namespace -> exit code).

They raise JobError for bad input; :mod:`hpcarray.jobs.cli` turns it into one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from hpcarray.jobs import machines
from hpcarray.jobs.api import submit_spec
from hpcarray.jobs.build import build_spec
from hpcarray.jobs.errors import JobError
from hpcarray.jobs.job import Job, find_record, load_records
from hpcarray.jobs.schedulers import Submission
from hpcarray.jobs.tracking import COMPLETED, JobStatus


def exit_status(st: JobStatus) -> int:
    """The exit status ``--wait`` ends with: 0 if the job completed, else its code (or 1)."""
    if st.state == COMPLETED:
        return 0
    return st.exit_code if st.exit_code else 1


def follow(job: Job, poll: float = 2.0, stream: TextIO | None = None) -> JobStatus:
    """Wait for ``job``, showing state changes and elapsed time live; on failure, its log."""
    out = stream or sys.stderr
    live = out.isatty()
    last: list[str] = []

    def show(st: JobStatus, elapsed: float) -> None:
        label = st.state + (f" ({st.raw})" if st.raw and st.raw != st.state else "")
        if not last or last[0] != label:
            if live:
                out.write("\n")
            out.write(f"[{elapsed:7.1f} s] job {job.id}: {label}" + ("" if live else "\n"))
            last[:] = [label]
        elif live:
            out.write(f"\r[{elapsed:7.1f} s] job {job.id}: {label}\x1b[K")
        out.flush()

    start = time.monotonic()
    st = job.wait(poll=poll, on_poll=show)
    if live:
        out.write("\n")
    code = "" if st.exit_code is None else f", exit code {st.exit_code}"
    out.write(f"job {job.id} {st.state}{code} after {time.monotonic() - start:.1f} s\n")
    if st.state != COMPLETED:
        tail = job.tail(20)
        out.write(f"--- last lines of {job.output} ---\n{tail}\n" if tail else "(no output)\n")
    out.flush()
    return st


def submit(args: argparse.Namespace) -> int:
    script, rest = args.script, list(args.args)
    if not script:
        raise JobError("no SCRIPT given (hpcarray submit [options] SCRIPT [ARGS...])")
    spec = build_spec(
        script,
        rest,
        machine=args.machine,
        nodes=args.nodes,
        ranks_per_node=args.ranks_per_node,
        gpus_per_node=args.gpus_per_node,
        cpus_per_rank=args.cpus_per_rank,
        launcher=args.launcher,
        scheduler=args.scheduler,
        mpi=args.mpi,
        time=args.time,
        partition=args.partition,
        account=args.account,
        qos=args.qos,
        job_name=args.job_name,
        output_dir=args.output_dir,
        env=args.env,
        modules=args.module,
        launcher_extra=args.launcher_extra,
        profile=args.profile,
        nsys=args.nsys,
        dataflow=args.dataflow,
        event=args.event,
        python=args.python,
    )
    result = submit_spec(spec, dry_run=args.dry_run)
    for note in spec.notes:  # (what the job assumed: after it went, an error alone before)
        sys.stderr.write(f"hpcarray submit: note: {note}\n")
    if isinstance(result, Submission):
        sys.stdout.write(f"# job script: {result.script_path}\n{result.script}")
        sys.stdout.write(f"# submit command:\n{result.command}\n")
        return 0
    job = result
    print(f"submitted job {job.id} ({job.scheduler}): {job.record['batch_script']}")
    print(f"output: {job.output}")
    sys.stdout.flush()
    if not args.wait:
        return 0
    return exit_status(follow(job, poll=args.poll))


def jobs_list(args: argparse.Namespace) -> int:
    records = load_records()
    if not args.all:
        records = records[-20:]
    if not records:
        print("no jobs submitted from this directory")
        return 0
    rows = [("JOB", "SCHEDULER", "NAME", "STATE", "EXIT", "SUBMITTED")]
    for rec in records:
        try:
            st = Job(rec).status()
            state, code = st.state, "" if st.exit_code is None else str(st.exit_code)
        except JobError:
            state, code = "UNKNOWN", ""
        rows.append(
            (str(rec["id"]), rec.get("scheduler", "?"), rec.get("name", ""), state, code,
             rec.get("submitted", ""))
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def jobs_status(args: argparse.Namespace) -> int:
    job = Job(find_record(args.job))
    if args.wait:
        return exit_status(follow(job, poll=args.poll))
    st = job.status()
    code = "" if st.exit_code is None else f" exit={st.exit_code}"
    print(f"{job.id} {st.state}{code} ({job.scheduler}: {st.raw or '?'}) output={job.output}")
    return 0


def jobs_logs(args: argparse.Namespace) -> int:
    job = Job(find_record(args.job))
    text = job.tail(args.lines)
    if text:
        print(text)
    if not args.follow:
        return 0
    seen = len(job.stdout())
    while True:
        done = job.done()
        data = job.stdout()
        if len(data) > seen:
            sys.stdout.write(data[seen:])
            sys.stdout.flush()
            seen = len(data)
        if done:
            return 0
        time.sleep(1.0)


def jobs_cancel(args: argparse.Namespace) -> int:
    job = Job(find_record(args.job))
    job.cancel()
    print(f"cancelled job {job.id}")
    return 0


def jobs_machines(args: argparse.Namespace) -> int:
    for name in machines.available():
        try:
            desc = machines.load(name).description
        except JobError as err:
            desc = f"(broken: {err})"
        print(f"{name:16s} {desc}")
    return 0
