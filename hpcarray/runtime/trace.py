"""The recorded graph: operations, point tasks, copies, dependence edges and timings.

Recording is off unless a profile directory is set. When on, records are appended as
tuples (cheap) and written as versioned JSON lines, one file per rank, when the program
ends; every renderer in hpcarray.profiling reads only these files. On a GPU backend, each
task's span on the GPU (from CUDA events: backend/cupy/timing.py) is a "gpu" record, read
back when the trace is written, and the header names the rank's GPU ("gpu").
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from hpcarray import __version__

TRACE_VERSION = 1

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_INSIDE: dict = {}  # code object -> whether it is hpcarray's (or NumPy's)
_BASENAMES: dict = {}  # code object -> its file's name


def user_frame(frame=None):
    """The innermost frame outside the hpcarray package (and NumPy) from `frame` (default:
    the caller's) outwards: the user's line. (Asked for by every operation: each code
    object is classified once.)"""
    if frame is None:
        frame = sys._getframe(1)
    inside = _INSIDE
    while frame is not None:
        known = inside.get(frame.f_code)  # (inline: a call per frame costs more than this)
        if known is None:
            known = _inside(frame.f_code)
        if not known:
            return frame
        frame = frame.f_back
    return None


def caller_frame(frame):
    """The user's frame that called into hpcarray, from `frame` somewhere inside that call
    (another thread's stack, which may end in the standard library: a lock's wait)."""
    while frame is not None and not _inside(frame.f_code):
        frame = frame.f_back
    return user_frame(frame)


def _inside(code) -> bool:
    known = _INSIDE.get(code)
    if known is None:
        if len(_INSIDE) > 65536:  # (code made again and again: exec, notebooks)
            _INSIDE.clear()
        filename = code.co_filename
        known = _INSIDE[code] = filename.startswith(_HERE) or "/numpy/" in filename
    return known


def user_source_line() -> str:
    """'file.py:LINE' of the innermost frame outside the hpcarray package (and NumPy)."""
    return frame_line(user_frame())


def frame_line(frame) -> str:
    """'file.py:LINE' of a frame ('?' for None)."""
    if frame is None:
        return "?"
    code = frame.f_code
    name = _BASENAMES.get(code)
    if name is None:
        if len(_BASENAMES) > 65536:
            _BASENAMES.clear()
        name = _BASENAMES[code] = os.path.basename(code.co_filename)
    return f"{name}:{frame.f_lineno}"


MAX_RUNS = 4  # line runs shown per file in a span; more become "…"


def source_span(sources) -> str:
    """The user's lines of several operations (a fused kernel's members) in one short
    text: 'stencil.py:56-59', 'a.py:3,7', 'a.py:3; b.py:5'. Empty sources give ''."""
    lines: dict[str, set[int]] = {}
    other: list[str] = []
    for src in sources:
        path, _, line = src.rpartition(":")
        if path and line.isdigit():
            lines.setdefault(path, set()).add(int(line))
        elif src and src not in other:
            other.append(src)
    parts = []
    for path, nums in lines.items():
        runs: list[list[int]] = []
        for n in sorted(nums):
            if runs and n == runs[-1][1] + 1:
                runs[-1][1] = n
            else:
                runs.append([n, n])
        text = ",".join(f"{a}-{b}" if b > a else str(a) for a, b in runs[:MAX_RUNS])
        parts.append(f"{path}:{text}" + (",…" if len(runs) > MAX_RUNS else ""))
    return "; ".join(parts + other)


class Recorder:
    """Collects trace records for one rank; `write()` puts them on disk."""

    def __init__(self, directory: str, rank: int, nranks: int, workers: int):
        self.directory = Path(directory)
        self.rank = rank
        self.nranks = nranks
        self.workers = workers
        self.t0 = time.perf_counter_ns()
        self.wall0 = time.time_ns()
        self.records: list[dict] = []
        self.known_stores: set[int] = set()
        self.lock = threading.Lock()
        # Per thread: .task, the (task id, op id, lane) it runs (scheduler); .depth and
        # .since, the compile it is in (compiling()).
        self.local = threading.local()
        # Where tasks run on a GPU, the backend's timer of their GPU spans (Backend.timer).
        self.gpu = None
        global _active
        _active = self

    def now(self) -> int:
        return time.perf_counter_ns() - self.t0

    def store(self, store_id: int, shape: tuple, dtype: str, name: str | None) -> None:
        if store_id in self.known_stores:
            return
        self.known_stores.add(store_id)
        self.records.append({"type": "store", "id": store_id, "shape": list(shape),
                             "dtype": dtype, "name": name})

    def op(self, op_id: int, name: str, src: str, reads: list, writes: list) -> None:
        self.records.append({"type": "op", "id": op_id, "name": name, "src": src,
                             "reads": reads, "writes": writes})

    def task(self, task_id: int, op_id: int, proc: int, tile, start: int, end: int,
             nbytes: int) -> None:
        self.local.task = None
        rec = {"type": "task", "id": task_id, "op": op_id, "rank": self.rank, "proc": proc,
               "tile": [list(t) for t in tile], "start": start, "end": end, "bytes": nbytes}
        with self.lock:
            self.records.append(rec)

    def gpu_begin(self):
        """Before a task's body: its GPU span's start (None: tasks run on the host)."""
        gpu = self.gpu
        return None if gpu is None else gpu.begin()

    def gpu_end(self, task_id: int, op_id: int, mark) -> None:
        """After a task's body (also one that raised), with gpu_begin's mark."""
        self.gpu.end(task_id, op_id, mark)

    def compile_begin(self) -> None:
        local = self.local
        depth = getattr(local, "depth", 0)
        local.depth = depth + 1
        if depth == 0:
            local.since = self.now()

    def compile_end(self) -> None:
        """The outermost compile on this thread ended: a record on the task it delays."""
        local = self.local
        local.depth -= 1
        if local.depth:
            return
        task_id, op_id, proc = getattr(local, "task", None) or (-1, -1, -1)
        rec = {"type": "compile", "task": task_id, "op": op_id, "rank": self.rank,
               "proc": proc, "start": local.since, "end": self.now()}
        with self.lock:
            self.records.append(rec)

    def copy(self, copy_id: int, op_id: int, kind: str, side: str, src: int, dst: int,
             tag: int, store_id: int, rect, nbytes: int, start: int, end: int) -> None:
        rec = {"type": "copy", "id": copy_id, "op": op_id, "kind": kind, "side": side,
               "src": src, "dst": dst, "tag": tag, "store": store_id,
               "rect": [list(t) for t in rect], "bytes": nbytes, "start": start, "end": end}
        with self.lock:
            self.records.append(rec)

    def edge(self, src: int, dst: int, kind: str) -> None:
        self.records.append({"type": "edge", "src": src, "dst": dst, "kind": kind})

    def path(self) -> Path:
        return self.directory / f"trace.{self.rank}.jsonl"

    def write(self, script: str, argv: list[str]) -> Path:
        global _active
        if _active is self:
            _active = None
        self.directory.mkdir(parents=True, exist_ok=True)
        header = {"type": "header", "version": TRACE_VERSION, "rank": self.rank,
                  "nranks": self.nranks, "workers": self.workers, "script": script,
                  "argv": argv, "t0_ns": self.wall0, "hpcarray_version": __version__}
        gpu = self.gpu
        if gpu is not None:
            header["gpu"] = gpu.device
        # GPU spans: read back now (the host waits for the GPU once, here).
        spans = ()
        if gpu is not None:
            try:
                spans = gpu.spans()
            except Exception as exc:  # noqa: BLE001 - a failed GPU: the trace without them
                self.records.append({"type": "gpu_error", "error": str(exc)[:200]})
        path = self.path()
        with self.lock, open(path, "w") as f:
            f.write(json.dumps(header) + "\n")
            for rec in self.records:
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
            for task_id, op_id, start, end in spans:
                f.write(json.dumps({"type": "gpu", "task": task_id, "op": op_id,
                                    "start": start, "end": end}, separators=(",", ":"))
                        + "\n")
            f.write(json.dumps({"type": "end", "t_ns": self.now()}) + "\n")
        return path


# -- compile time ------------------------------------------------------------------------
# The first task of a fused kernel imports numba and compiles (0.3-0.7 s): recorded as
# "compile" records so that renderers show it apart from the operation's own time.

_active: Recorder | None = None  # the process's recorder, while it records
_numba_watched = False


@contextlib.contextmanager
def compiling():
    """Around kernels.py's numba import and kernel definition. Once numba is loaded,
    its compiler (run lazily, at a kernel's first call) is timed through its events."""
    rec = _active
    if rec is None:
        yield
        return
    rec.compile_begin()
    try:
        yield
    finally:
        rec.compile_end()
        if not _numba_watched and "numba" in sys.modules:
            _watch_numba()


def _watch_numba() -> None:
    global _numba_watched
    from numba.core import event

    class Listener(event.Listener):
        # The compiler lock spans numba's whole compile, a disk-cache load included.
        def on_start(self, ev):
            if _active is not None:
                _active.compile_begin()

        def on_end(self, ev):
            rec = _active
            if rec is not None and getattr(rec.local, "depth", 0):
                rec.compile_end()

    event.register("numba:compiler_lock", Listener())
    _numba_watched = True
