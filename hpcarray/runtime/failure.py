"""How a job of several ranks ends, whatever ends it.

Every rank ends with an Outcome (ran to the end, sys.exit, an error, a signal) and tells
the others on a communicator of its own, so the announcements never mix with the
program's collectives. When every rank has ended, they agree on one exit status and rank 0
prints each distinct report once ("all 3 ranks failed alike"). A rank that ends early while
others still run cannot be waited for: the job can no longer go on in lock-step, so after
a short grace (others may be about to end alike) it says which rank ended and why, and
MPI_Abort ends the rest instead of leaving them hanging in a collective.
"""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import struct
import sys
import termios
import threading
import time
import traceback
from dataclasses import dataclass

from hpcarray.runtime.stall import StallWatch

DRAIN_SECONDS = 3.0   # at most this long for the launcher to read our traceback
GRACE_SECONDS = 2.0   # an early end waits this long for the other ranks to end alike
END_TAG = 17


@dataclass(frozen=True)
class Outcome:
    """How one rank's program ended. `text` is what Python prints for it (a traceback, the
    message of sys.exit("...")); `how` is "end" (ran to its end), "exit" (sys.exit),
    "error" or "signal"."""

    status: int = 0
    text: str = ""
    how: str = "end"

    @property
    def early(self) -> bool:
        """It stopped in the middle of the program: ranks still running wait for it in vain."""
        return self.how != "end"

    def describe(self, rank: int) -> str:
        if self.how == "exit":
            return f"rank {rank} exited with status {self.status} (sys.exit)"
        if self.how == "end":
            return f"rank {rank} ended its program"
        if self.how == "signal":
            return f"rank {rank} was stopped by {signal.Signals(self.status - 128).name}"
        return f"rank {rank} failed"


def exit_outcome(exc: SystemExit) -> Outcome:
    """sys.exit(code) as Python ends a program with it: None is 0, an int is the status,
    anything else is printed and the status is 1."""
    code = exc.code
    if code is None or isinstance(code, int):
        return Outcome(int(code or 0), "", "exit")
    return Outcome(1, f"{code}\n", "exit")


def error_outcome(exc: BaseException, skip=()) -> Outcome:
    """An uncaught exception: Python's traceback, without the leading frames of files in
    `skip` (the launcher's own), as `python script.py` shows it."""
    tb = exc.__traceback__
    while tb is not None and _file_of(tb) in skip:
        tb = tb.tb_next
    return Outcome(1, "".join(traceback.format_exception(type(exc), exc, tb)), "error")


def signal_outcome(signum: int) -> Outcome:
    return Outcome(128 + signum, "", "signal")


def _file_of(tb) -> str:
    return tb.tb_frame.f_code.co_filename


def task_error_outcome(error) -> Outcome:
    """A deferred task's error that nothing waited for: the program failed at its end."""
    from hpcarray.runtime.scheduler import raise_task_error

    try:
        raise_task_error(*error)
    except BaseException as exc:  # noqa: BLE001 - formatted, not handled
        return error_outcome(exc)
    raise AssertionError("unreachable")


def wait_until_read(stream, limit: float = DRAIN_SECONDS) -> None:
    """Wait until what we wrote to `stream` has left its pipe. The launcher (Hydra's proxy,
    orterun) reads ranks' output from pipes; MPI_Abort can kill it before it does, and then
    the traceback is lost (seen under load in CI). FIONREAD counts unread bytes in a pipe."""
    try:
        fd = stream.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return         # a file or a terminal: nothing in between to wait for
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            raw = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
            if struct.unpack("i", raw)[0] == 0:
                break
            time.sleep(0.01)
        time.sleep(0.05)   # let the launcher pass it on before it handles the abort
    except (OSError, ValueError, AttributeError):
        pass


def marked(text: str, label: str) -> str:
    return "".join(f"[{label}] {line}\n" for line in text.rstrip().splitlines())


def agreed_report(outcomes: list[Outcome]) -> tuple[int, str]:
    """The job's status (the first failing rank's) and what to print for it: each distinct
    report once, saying on which ranks it happened."""
    status = next((o.status for o in outcomes if o.status), 0)
    groups: dict[str, list[int]] = {}
    for rank, o in enumerate(outcomes):
        if o.text:
            groups.setdefault(o.text, []).append(rank)
    n = len(outcomes)
    if len(groups) == 1 and len(next(iter(groups.values()))) == n:
        text = next(iter(groups))
        if outcomes[0].how != "error":
            return status, text        # sys.exit("message") on every rank: Python's output
        return status, f"hpcarray: all {n} ranks failed alike:\n{text}"
    parts = []
    for text, ranks in groups.items():
        label = f"rank {ranks[0]}" if len(ranks) == 1 else f"ranks {_listed(ranks)}"
        parts.append(marked(text, label))
    return status, "".join(parts)


def _listed(ranks: list[int]) -> str:
    return ", ".join(map(str, ranks))


class EndWatch(threading.Thread):
    """Hears the other ranks' end announcements. When one ended early while this rank still
    runs (and does not end within the grace), it writes this rank's trace as far as it got
    and answers "running", so the ending rank need not wait any longer. When one ended
    while this rank waits for it (a rank that called sys.exit under plain `python`, or
    programs that diverged), it ends the job: the wait would be forever."""

    def __init__(self, runtime):
        super().__init__(name="hpcarray-end-watch", daemon=True)
        self.runtime = runtime
        self.comm = runtime.comm.fault
        self.rank, self.size = runtime.rank, runtime.nranks
        self.save_trace = runtime.write_trace
        self.cond = threading.Condition()
        self.heard: dict[int, Outcome | None] = {}   # rank -> its outcome; None: running
        self.first_early: float | None = None
        self.stuck_since: float | None = None
        self.ending = False          # this rank has begun to end: it answers no more
        self.stopped = False
        self.sends: list = []
        seconds = runtime.settings.stall_seconds
        self.stall = StallWatch(runtime, seconds) if seconds else None

    def announce(self, outcome: Outcome | None) -> None:
        self.sends += [self.comm.isend(outcome, dest=r, tag=END_TAG)
                       for r in range(self.size) if r != self.rank]

    def run(self) -> None:
        from mpi4py import MPI

        status = MPI.Status()
        while not self.stopped:
            while self.comm.iprobe(source=MPI.ANY_SOURCE, tag=END_TAG, status=status):
                src = status.Get_source()
                outcome = self.comm.recv(source=src, tag=END_TAG)
                with self.cond:
                    self.heard[src] = outcome
                    if outcome is not None and outcome.early and self.first_early is None:
                        self.first_early = time.monotonic()
                    self.cond.notify_all()
            with self.cond:
                answer = (self.first_early is not None and not self.ending
                          and time.monotonic() - self.first_early > GRACE_SECONDS)
                if answer:
                    self.ending = True
            if answer:
                self.save_trace()
                self.announce(None)
            self._check_stuck()
            if self.stall is not None and not self.ending:
                self._check_stall()
            time.sleep(0.02)

    def _check_stall(self) -> None:
        """Every rank waits with nothing to do: end the job (stall.py)."""
        report = self.stall.tick(time.monotonic())
        if report is not None:
            headline, text = report
            self._end_job(Outcome(1, text, "error"), headline)

    def _end_job(self, outcome: Outcome, headline: str) -> None:
        """End the whole job from this thread (once), with this rank's trace written."""
        with self.cond:
            if self.ending:
                return
            self.ending = True
        self.save_trace()
        abort_job(self.runtime, outcome, headline)

    def _check_stuck(self) -> None:
        with self.cond:
            ended = sorted(self.heard)
            running = [r for r in range(self.size) if r not in self.heard]
            stuck = (ended and not self.ending and running[0] == self.rank  # one speaks
                     and self._waits_for(ended))
        if not stuck:
            self.stuck_since = None
            return
        now = time.monotonic()
        self.stuck_since = self.stuck_since or now
        if now - self.stuck_since < GRACE_SECONDS:
            return
        peer = ended[0]
        self._end_job(Outcome(1, "", "error"),
                      f"{self.heard[peer].describe(peer)} while rank {self.rank} waits for it")

    def _waits_for(self, ended: list[int]) -> bool:
        """This rank waits in a collective, or for a message from a rank that has ended
        (its sends all went before it announced its end: the message will never come)."""
        if self.runtime.comm.in_collective:
            return True
        return not self.runtime.scheduler.progress.waited_for().isdisjoint(ended)

    def wait_for_all(self, timeout: float | None) -> dict[int, Outcome | None]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.heard) == self.size - 1, timeout)
            return dict(self.heard)

    def stop(self) -> None:
        self.stopped = True
        self.join()
        from mpi4py import MPI

        MPI.Request.Waitall(self.sends + (self.stall.sends if self.stall else []))


def end_job(runtime, outcome: Outcome) -> int:
    """End this rank of a multi-rank job with `outcome` (its trace is not yet written);
    returns the job's status once every rank has ended, else ends the job here."""
    watch: EndWatch = runtime.end_watch
    with watch.cond:
        watch.ending = True    # the watch answers no more for this rank
    runtime.write_trace()
    watch.announce(outcome)
    # Ranks that ran to the end wait for every other (one may still be writing results);
    # an early end waits for the others' answers: their own end, or "still running".
    heard = watch.wait_for_all(3 * GRACE_SECONDS if outcome.early else None)
    heard[runtime.rank] = outcome
    if all(heard.get(r) is not None for r in range(watch.size)):
        watch.stop()
        status, text = agreed_report([heard[r] for r in range(watch.size)])
        if runtime.rank == 0:
            if text:
                sys.stderr.write(text)
                sys.stderr.flush()
                wait_until_read(sys.stderr)
            runtime.render_profile()
        if status:
            # A rank that exits with a failure status makes mpiexec kill the others: none
            # does before rank 0 has written the job's report (else it was lost at times).
            runtime.comm.barrier()
        return status
    running = [r for r in range(watch.size) if heard.get(r) is None]
    abort_job(runtime, outcome,
              f"{outcome.describe(runtime.rank)} while {_ranks(running)} still running")
    return outcome.status  # not reached: the abort ends this process


def _ranks(ranks: list[int]) -> str:
    return f"rank {ranks[0]} was" if len(ranks) == 1 else f"ranks {_listed(ranks)} were"


def abort_job(runtime, outcome: Outcome, headline: str) -> None:
    """Say which rank ended the job and why (quietly for a signal: the user sent it), then
    end every rank with the outcome's status."""
    rank = runtime.rank
    if outcome.how != "signal":
        head = f"hpcarray: {headline}; ending the job\n"
        sys.stderr.write(marked(head + outcome.text, f"rank {rank}"))
    sys.stderr.flush()
    wait_until_read(sys.stderr)
    from hpcarray.supervisor import mark

    mark("abort")  # `hpcarray run`: the ranks about to be killed were not killed from outside
    runtime.comm.abort(outcome.status or 1)


def install(runtime) -> EndWatch:
    """Start hearing the other ranks' ends; errors of a program run by plain `python`
    (not `hpcarray run`) end the job the same way."""
    watch = EndWatch(runtime)
    watch.start()

    def excepthook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            outcome = signal_outcome(signal.SIGINT)
        else:
            outcome = error_outcome(exc.with_traceback(tb))
        status = runtime.finalize(outcome)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

    def thread_hook(args) -> None:
        # A thread of the runtime (or of the program) failed: the program cannot go on.
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value,
                                                  args.exc_traceback))
        abort_job(runtime, Outcome(1, text, "error"),
                  f"rank {runtime.rank} failed in thread {args.thread.name}")

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
    return watch
