"""`hpcarray run -n N` watches its job: signals reach every rank, and a rank killed from
outside is named.

mpiexec runs in a session of its own, so a terminal's Ctrl-C reaches only the launcher,
which passes it on to the ranks themselves (they end quietly, failure.py; mpiexec would
print its own lines about it). Each rank writes its pid into the job's directory when it
starts and marks when it ends (or ends the job) on purpose; the first rank to die unmarked,
in a job no rank ended, was killed or crashed, and the launcher says which (Hydra's banner
names only some pid).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path

JOB_DIR_VAR = "HPCARRAY_JOB_DIR"
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KILL_AFTER = 10.0   # seconds a job may take to end after a forwarded signal
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")


def mark(kind: str) -> None:
    """Rank side, under `hpcarray run`: "pid" when the rank starts, "end" when it ends on
    purpose, "abort" when it ends the job (a file named RANK.KIND holding the pid)."""
    directory = os.environ.get(JOB_DIR_VAR)
    if not directory:
        return
    rank = next((os.environ[v] for v in _RANK_VARS if v in os.environ), "0")
    try:
        Path(directory, f"{rank}.{kind}").write_text(str(os.getpid()))
    except OSError:
        pass


class Job:
    """One mpiexec (or nsys) command and the ranks it starts."""

    def __init__(self, cmd: list[str], env: dict[str, str], ranks: int):
        self.cmd, self.env, self.nranks = cmd, env, ranks
        self.proc: subprocess.Popen | None = None
        self.dir = Path()
        self.signum = 0
        self.kill_at = float("inf")
        self.killed_at: float | None = None

    def run(self) -> int:
        """Run the job to its end; its exit status (128+N after signal N, as a shell's)."""
        with tempfile.TemporaryDirectory(prefix="hpcarray-run-") as d:
            self.dir = Path(d)
            before = {s: signal.signal(s, self._forward) for s in FORWARDED}
            try:
                self.proc = subprocess.Popen(self.cmd, env={**self.env, JOB_DIR_VAR: d},
                                             start_new_session=True)
                killed = self._watch()
                if any(self.dir.glob("*.abort")):
                    killed = []   # a rank ended the job, and said why
            finally:
                for s, handler in before.items():
                    signal.signal(s, handler)
        rc = self.proc.returncode
        if self.signum:
            return 128 + self.signum
        if rc and killed:
            return _report_death(killed, rc)
        return rc if rc >= 0 else 128 - rc

    def _ranks(self) -> dict[int, int]:
        """rank -> pid of the ranks that have started."""
        pids = {}
        for path in self.dir.glob("*.pid"):
            try:
                pids[int(path.stem)] = int(path.read_text())
            except (ValueError, OSError):
                continue  # being written
        return pids

    def _watch(self) -> list[tuple[int, int]]:
        """Wait for the job; the first ranks (rank, pid) that died without ending on
        purpose: one, or several seen dead at the same look (mpiexec kills the others
        when one dies; on a busy machine this process may look only after that)."""
        poller, watched, first = select.poll(), {}, []
        seen: set[int] = set()
        while self.proc.poll() is None:
            dead = []
            for rank, pid in self._ranks().items():
                if rank in seen:
                    continue
                seen.add(rank)
                try:
                    fd = os.pidfd_open(pid)
                except ProcessLookupError:
                    dead.append((rank, pid))
                    continue
                except (OSError, AttributeError):  # no pidfd here: nothing to watch
                    continue
                poller.register(fd, select.POLLIN)
                watched[fd] = (rank, pid)
            for fd, _ in poller.poll(50):
                poller.unregister(fd)
                os.close(fd)
                dead.append(watched.pop(fd))
            if not first:
                first = sorted(r for r in dead if self._unmarked(*r))
            if time.monotonic() > self.kill_at:
                self._kill()
        if not first and watched:
            # mpiexec ended before a death was seen (a rank that died slowly, after the
            # others: its ranks are dead or dying now): one last look, briefly.
            deadline = time.monotonic() + 1.0
            while watched and not first and time.monotonic() < deadline:
                dead = []
                for fd, _ in poller.poll(50):
                    poller.unregister(fd)
                    os.close(fd)
                    dead.append(watched.pop(fd))
                first = sorted(r for r in dead if self._unmarked(*r))
        for fd in watched:
            os.close(fd)
        return first

    def _unmarked(self, rank: int, pid: int) -> bool:
        return not (self.dir / f"{rank}.end").exists()

    def _forward(self, signum: int, frame) -> None:
        if self.signum:           # a second signal: end the job now
            self.kill_at = 0.0
            return
        self.signum = signum
        self.kill_at = time.monotonic() + KILL_AFTER
        ranks = self._ranks()
        for pid in ranks.values():
            _signal(pid, signum)
        if len(ranks) < self.nranks and self.proc is not None:
            _signal(self.proc.pid, signal.SIGTERM)   # mpiexec passes it to the rest

    def _kill(self) -> None:
        """The job did not end after a signal: kill its ranks, and mpiexec if it stays."""
        for pid in self._ranks().values():
            _signal(pid, signal.SIGKILL)
        if self.killed_at is None:
            self.killed_at = time.monotonic()
        elif time.monotonic() - self.killed_at > 2.0:
            _signal(self.proc.pid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _report_death(dead: list[tuple[int, int]], rc: int) -> int:
    """Ranks (rank, pid) died without ending on purpose; mpiexec's status is its signal
    number (Hydra) or exit status. Several: seen dead at once, so the first is one of them."""
    import sys

    if 0 < rc < signal.NSIG:
        try:
            name = f" ({signal.Signals(rc).name})"
        except ValueError:
            name = ""
        how, status = f"killed by signal {rc}{name}", 128 + rc
    else:
        how, status = f"died with status {rc}", rc
    if len(dead) == 1:
        rank, pid = dead[0]
        verb = "was " if how.startswith("killed") else ""
        who = f"rank {rank} (pid {pid}) {verb}{how}"
    else:
        ranks = ", ".join(str(r) for r, _ in dead)
        pids = ", ".join(str(p) for _, p in dead)
        who = (f"ranks {ranks} (pids {pids}) were seen dead at once ({how}): mpiexec ends "
               f"the others when one dies, so the first is one of them")
    print(f"hpcarray run: {who}; the job ended", file=sys.stderr)
    return status
