"""A failing rank ends the whole job: its traceback is printed once, marked with the rank,
and MPI_Abort stops every other rank (no rank is left hanging in a collective)."""

from __future__ import annotations

import sys
import threading
import traceback


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
        comm.abort(1)

    def thread_hook(args) -> None:
        report_and_abort(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = report_and_abort
    threading.excepthook = thread_hook

