"""Job handles and the record of submissions in ``./.hpcarray/jobs.jsonl``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpcarray.jobs.errors import JobError
from hpcarray.jobs.tracking import UNKNOWN, JobStatus, tracker_for

RECORD_DIR = ".hpcarray"
RECORD_FILE = "jobs.jsonl"


def records_path(base: str | os.PathLike[str] | None = None) -> Path:
    """Where this directory's submissions are recorded."""
    return Path(base or os.getcwd()) / RECORD_DIR / RECORD_FILE


def append_record(record: dict[str, Any], base: str | os.PathLike[str] | None = None) -> None:
    path = records_path(base)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def load_records(base: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """All submissions recorded here, oldest first (unreadable lines skipped)."""
    path = records_path(base)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and "id" in rec:
            out.append(rec)
    return out


def find_record(job_id: str | None, base: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The latest submission with this id (or the latest of all when ``job_id`` is None)."""
    records = load_records(base)
    if not records:
        raise JobError(f"no jobs recorded in {records_path(base)}")
    if job_id is None:
        return records[-1]
    for rec in reversed(records):
        if str(rec["id"]) == job_id:
            return rec
    raise JobError(f"no job {job_id!r} recorded in {records_path(base)}")


class Job:
    """A submitted job: ``state``, ``wait()``, ``cancel()``, ``stdout()``."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = dict(record)
        self._tracker = tracker_for(self.record)
        self._last: JobStatus | None = None

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, scheduler={self.scheduler!r}, name={self.name!r})"

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def scheduler(self) -> str:
        return str(self.record["scheduler"])

    @property
    def name(self) -> str:
        return str(self.record.get("name", ""))

    @property
    def output(self) -> str:
        """Path of the job's log (stdout and stderr of all ranks)."""
        return str(self.record["output"])

    def status(self) -> JobStatus:
        if self._last is None or not self._last.done:
            self._last = self._tracker.status(self.record)
        return self._last

    @property
    def state(self) -> str:
        return self.status().state

    @property
    def exit_code(self) -> int | None:
        return self.status().exit_code

    def done(self) -> bool:
        return self.status().done

    def wait(
        self,
        timeout: float | None = None,
        poll: float = 1.0,
        on_poll: Callable[[JobStatus, float], None] | None = None,
    ) -> JobStatus:
        """Poll until the job ends (or ``timeout`` seconds pass: TimeoutError)."""
        start = time.monotonic()
        unknown_since: float | None = None
        while True:
            st = self.status()
            elapsed = time.monotonic() - start
            if on_poll is not None:
                on_poll(st, elapsed)
            if st.done:
                return st
            if st.state == UNKNOWN:  # give the scheduler a while to learn about the job
                unknown_since = unknown_since if unknown_since is not None else elapsed
                if elapsed - unknown_since > 60:
                    raise JobError(f"job {self.id}: the scheduler no longer knows it")
            else:
                unknown_since = None
            if timeout is not None and elapsed > timeout:
                raise TimeoutError(f"job {self.id} still {st.state} after {timeout:g} s")
            time.sleep(poll)

    def cancel(self) -> None:
        """Cancel the job; JobError if it has already ended (nothing was cancelled)."""
        st = self.status()
        if st.done:
            code = "" if st.exit_code is None else f", exit code {st.exit_code}"
            raise JobError(f"job {self.id} has already ended ({st.state}{code}): not cancelled")
        self._tracker.cancel(self.record)
        self._last = None

    def stdout(self) -> str:
        """The job's log so far ('' before it is created)."""
        try:
            return Path(self.output).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 20) -> str:
        text = self.stdout()
        return "\n".join(text.splitlines()[-lines:]) if lines > 0 else text
