"""Following submitted jobs: state, exit code, cancel, output — one tracker per scheduler.

Trackers need only the submission record (job id, scheduler, log path), so ``hpcarray jobs``
can follow jobs submitted by an earlier command.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpcarray.jobs.errors import JobError

PENDING, RUNNING, COMPLETED, FAILED = "PENDING", "RUNNING", "COMPLETED", "FAILED"
CANCELLED, TIMEOUT, UNKNOWN = "CANCELLED", "TIMEOUT", "UNKNOWN"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, TIMEOUT})


@dataclass(frozen=True)
class JobStatus:
    """A job's state (one of the constants above) and, once it ended, its exit code."""

    state: str
    exit_code: int | None = None
    raw: str = ""  # the scheduler's own word for the state

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


def _run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None


class Tracker:
    """Base class; subclasses answer for one scheduler."""

    def status(self, record: dict[str, Any]) -> JobStatus:
        raise NotImplementedError

    def cancel(self, record: dict[str, Any]) -> None:
        raise NotImplementedError


_SLURM_STATES = {
    "PENDING": PENDING, "CONFIGURING": PENDING, "REQUEUED": PENDING, "RESV_DEL_HOLD": PENDING,
    "RUNNING": RUNNING, "COMPLETING": RUNNING, "SUSPENDED": RUNNING, "STAGE_OUT": RUNNING,
    "COMPLETED": COMPLETED, "CANCELLED": CANCELLED, "PREEMPTED": CANCELLED,
    "FAILED": FAILED, "NODE_FAIL": FAILED, "BOOT_FAIL": FAILED, "OUT_OF_MEMORY": FAILED,
    "DEADLINE": TIMEOUT, "TIMEOUT": TIMEOUT,
}  # fmt: skip


def _slurm_exit(text: str) -> int | None:
    m = re.match(r"(\d+):(\d+)", text)
    if not m:
        return None
    code, sig = int(m.group(1)), int(m.group(2))
    return code if code or not sig else 128 + sig


class SlurmTracker(Tracker):
    """scontrol while slurmctld remembers the job, sacct (accounting) after."""

    def status(self, record: dict[str, Any]) -> JobStatus:
        job_id = str(record["id"])
        proc = _run(["scontrol", "show", "job", "-o", job_id])
        if proc is not None and proc.returncode == 0 and "JobState=" in proc.stdout:
            state = re.search(r"JobState=(\S+)", proc.stdout).group(1)  # type: ignore[union-attr]
            code = re.search(r"\bExitCode=(\S+)", proc.stdout)
            return self._status(state, code.group(1) if code else "")
        proc = _run(["sacct", "-j", job_id, "-X", "-n", "-P", "-o", "State,ExitCode"])
        if proc is not None and proc.returncode == 0 and proc.stdout.strip():
            state, _, code = proc.stdout.strip().splitlines()[0].partition("|")
            return self._status(state.split()[0], code)
        return JobStatus(UNKNOWN)

    @staticmethod
    def _status(raw: str, code: str) -> JobStatus:
        state = _SLURM_STATES.get(raw.rstrip("+"), UNKNOWN)
        exit_code = _slurm_exit(code) if state in TERMINAL else None
        return JobStatus(state, exit_code, raw)

    def cancel(self, record: dict[str, Any]) -> None:
        proc = _run(["scancel", str(record["id"])])
        if proc is None or proc.returncode != 0:
            why = proc.stderr.strip() if proc is not None else "scancel not found"
            raise JobError(f"scancel {record['id']} failed: {why}")


_LSF_STATES = {
    "PEND": PENDING, "WAIT": PENDING, "PSUSP": PENDING,
    "RUN": RUNNING, "USUSP": RUNNING, "SSUSP": RUNNING,
    "DONE": COMPLETED, "EXIT": FAILED, "ZOMBI": FAILED,
}  # fmt: skip


class LsfTracker(Tracker):
    """bjobs for state and exit code, bkill to cancel."""

    def status(self, record: dict[str, Any]) -> JobStatus:
        proc = _run(["bjobs", "-noheader", "-o", "stat exit_code", str(record["id"])])
        if proc is None or proc.returncode != 0 or not proc.stdout.split():
            return JobStatus(UNKNOWN)
        words = proc.stdout.split()
        state = _LSF_STATES.get(words[0], UNKNOWN)
        code = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
        if state == COMPLETED:
            code = 0
        return JobStatus(state, code if state in TERMINAL else None, words[0])

    def cancel(self, record: dict[str, Any]) -> None:
        proc = _run(["bkill", str(record["id"])])
        if proc is None or proc.returncode != 0:
            why = proc.stderr.strip() if proc is not None else "bkill not found"
            raise JobError(f"bkill {record['id']} failed: {why}")


class LocalTracker(Tracker):
    """A detached process on this machine: its pid, and a status file it writes at the end."""

    @staticmethod
    def _files(record: dict[str, Any]) -> tuple[Path, Path]:
        script = Path(record["batch_script"])
        return script.with_suffix(".status"), script.with_suffix(".cancelled")

    def status(self, record: dict[str, Any]) -> JobStatus:
        status_file, cancelled = self._files(record)
        if cancelled.exists():
            return JobStatus(CANCELLED, 128 + signal.SIGTERM, "cancelled")
        if status_file.exists():
            code = int(status_file.read_text().strip() or 1)
            return JobStatus(COMPLETED if code == 0 else FAILED, code, f"exit {code}")
        pid = int(record.get("pid") or 0)
        try:
            os.kill(pid, 0)
        except (OSError, ValueError):
            return JobStatus(FAILED, None, "vanished")
        try:  # reap it if it is our own child, so it does not linger as a zombie
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return JobStatus(RUNNING, None, "running")

    def cancel(self, record: dict[str, Any]) -> None:
        _, cancelled = self._files(record)
        cancelled.write_text("cancelled\n")
        try:
            os.killpg(int(record["pid"]), signal.SIGTERM)
        except (OSError, ValueError) as err:
            raise JobError(f"cannot cancel {record['id']}: {err}") from None


TRACKERS: dict[str, type[Tracker]] = {
    "slurm": SlurmTracker,
    "lsf": LsfTracker,
    "none": LocalTracker,
}


def tracker_for(record: dict[str, Any]) -> Tracker:
    """The tracker for the scheduler a job was submitted to."""
    try:
        return TRACKERS[record["scheduler"]]()
    except KeyError:
        raise JobError(f"job {record.get('id')}: unknown scheduler in record") from None
