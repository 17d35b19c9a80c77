"""Deadlock across ranks ends the job, naming each rank's line, instead of hanging.

Ranks that took different paths through a program (code that branches on the rank, an
exception caught on some ranks only) wait for each other forever: one in a collective,
another for a message the first will never send. Each rank watches itself (on the end
watch's thread, failure.py): it is *stalled* while its main thread waits (for tasks or in
a collective), no worker runs a task, no send is under way and no task completes. A rank
stalled for `seconds` tells rank 0 what it waits for and where; rank 0, stalled too and
told by every other rank (and still so a moment later, for a rank that just woke up),
ends the job with the list. A rank that stops being stalled takes its word back. Slow
ranks are never taken for stalled ones: a rank that computes, sends, or runs user code
outside hpcarray (its main thread not waiting in hpcarray) is not stalled.
"""

from __future__ import annotations

import sys
import threading

from hpcarray.runtime.trace import caller_frame, frame_line

STALL_TAG = 18
CONFIRM_SECONDS = 1.0  # rank 0 decides only after every rank has been stalled this long


class StallWatch:
    def __init__(self, runtime, seconds: float):
        self.runtime = runtime
        self.seconds = seconds
        self.comm = runtime.comm.fault
        self.rank, self.size = runtime.rank, runtime.nranks
        self.seen = -1           # tasks completed when last looked at
        self.since: float | None = None     # stalled since
        self.told = False        # rank 0 was told this rank is stalled
        self.others: dict[int, str] = {}    # (rank 0) rank -> what it waits for
        self.all_since: float | None = None
        self.sends: list = []

    def tick(self, now: float) -> tuple[str, str] | None:
        """One look (every few tens of milliseconds); on rank 0, (headline, report) when
        the job must end."""
        self._hear()
        waiting = self._waiting()
        sched = self.runtime.scheduler
        done = sched.completed
        if (waiting is None or done != self.seen or any(sched.busy)
                or sched.progress.sends_under_way()):
            self.seen, self.since, self.all_since = done, None, None
            if self.told:
                self._tell(None)
            return None
        self.since = self.since or now
        if now - self.since < self.seconds:
            return None
        mine = f"at {self._main_line()}, {waiting}"
        if self.rank != 0:
            if not self.told:
                self._tell(mine)
            return None
        if len(self.others) < self.size - 1:
            self.all_since = None
            return None
        self.all_since = self.all_since or now
        if now - self.all_since < CONFIRM_SECONDS:
            return None
        return self._report({0: mine, **self.others})

    def _waiting(self) -> str | None:
        """What the main thread waits for, or None when it does not wait in hpcarray."""
        rt = self.runtime
        if rt.comm.in_collective:
            return "waits for the other ranks in a collective"
        if not rt.scheduler.main_waiting:
            return None
        sources = sorted(rt.scheduler.progress.waited_for())
        if sources:
            ranks = "rank" + ("s " if len(sources) > 1 else " ") + ", ".join(map(str, sources))
            return f"waits for a message from {ranks}"
        return "waits for its tasks"

    def _main_line(self) -> str:
        frame = sys._current_frames().get(threading.main_thread().ident)
        return frame_line(caller_frame(frame))

    def _tell(self, what: str | None) -> None:
        self.sends.append(self.comm.isend(what, dest=0, tag=STALL_TAG))
        self.told = what is not None

    def _hear(self) -> None:
        if self.rank != 0:
            return
        from mpi4py import MPI

        status = MPI.Status()
        while self.comm.iprobe(source=MPI.ANY_SOURCE, tag=STALL_TAG, status=status):
            src = status.Get_source()
            what = self.comm.recv(source=src, tag=STALL_TAG)
            if what is None:
                self.others.pop(src, None)
            else:
                self.others[src] = what

    def _report(self, waits: dict[int, str]) -> tuple[str, str]:
        lines = "".join(f"  rank {r}: {w}\n" for r, w in sorted(waits.items()))
        text = (f"{lines}The ranks took different paths through the program (code that "
                "branches on the rank, or an exception caught on some ranks only): every "
                "rank must make the same hpcarray calls. (HPCARRAY_STALL_SECONDS sets how "
                "long to wait before ending; 0: wait forever.)\n")
        return (f"every rank has waited {self.seconds:g} s with nothing to do (a deadlock)",
                text)
