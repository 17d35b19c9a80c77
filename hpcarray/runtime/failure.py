"""A failing rank ends the whole job: its traceback is printed once, marked with the rank,
and MPI_Abort stops every other rank (no rank is left hanging in a collective)."""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import sys
import termios
import threading
import time
import traceback

DRAIN_SECONDS = 3.0   # at most this long for the launcher to read our traceback


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


def install(runtime) -> None:
    rank, comm = runtime.rank, runtime.comm

    def report_and_abort(exc_type, exc, tb) -> None:
        if issubclass(exc_type, SystemExit) and not exc.code:
            return
        if issubclass(exc_type, KeyboardInterrupt):
            comm.abort(130)
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        marked = "".join(f"[rank {rank}] {line}\n" for line in text.rstrip().splitlines())
        sys.stderr.write(f"[rank {rank}] hpcarray: rank {rank} failed; ending the job\n"
                         + marked)
        sys.stderr.flush()
        wait_until_read(sys.stderr)
        comm.abort(1)

    def thread_hook(args) -> None:
        report_and_abort(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = report_and_abort
    threading.excepthook = thread_hook

