"""Run one benchmark child process and collect its output and resource usage.

Each run is a fresh process. Its peak resident memory comes from ``os.wait4``, which
returns the child's rusage (for a launcher such as ``hpcarray run -n K``: the largest
process in its tree, i.e. one rank, not the sum over ranks).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

_ERROR = re.compile(r"^\w*(Error|Exception)\b|error:")
_FIELD = re.compile(r"^(checksum|time|per_op_us): (\S+)\s*$", re.MULTILINE)


@dataclass
class RunResult:
    """The outcome of one child process."""

    argv: list[str]
    returncode: int | None
    wall_s: float
    maxrss_mib: float | None
    values: dict[str, float]
    stdout: str
    stderr_tail: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """A one-line reason why the run produced no usable result."""
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        if self.returncode != 0:
            lines = [ln.strip() for ln in self.stderr_tail.splitlines() if ln.strip()]
            # Prefer the Python exception over a launcher's closing words (MPI_Abort ...).
            errors = [ln for ln in lines if _ERROR.search(ln)]
            line = (errors or lines or ["no stderr"])[-1]
            return f"exit {self.returncode}: {line[:300]}"
        return "no checksum/time in output"


def parse(stdout: str) -> dict[str, float]:
    """The first ``checksum:``, ``time:`` and ``per_op_us:`` values (rank 0 prints first)."""
    values: dict[str, float] = {}
    for key, value in _FIELD.findall(stdout):
        if key not in values:
            try:
                values[key] = float(value)
            except ValueError:
                continue
    return values


def run(argv: list[str], env: dict[str, str], timeout_s: float, cwd: str) -> RunResult:
    """Run ``argv`` to completion (or kill its process group at ``timeout_s``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd,
                                start_new_session=True)
        status, usage, timed_out = None, None, False
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - start > timeout_s:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.01)
        except BaseException:  # interrupted: take the child's process group down too
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return RunResult(
        argv=argv,
        returncode=proc.returncode,
        wall_s=wall,
        maxrss_mib=usage.ru_maxrss / 1024 if usage else None,  # Linux: KiB
        values=parse(stdout),
        stdout=stdout,
        stderr_tail=stderr[-2000:],
        timed_out=timed_out,
    )
