"""The recorded graph: operations, point tasks, copies, dependence edges and timings.

Recording is off unless a profile directory is set. When on, records are appended as
tuples (cheap) and written as versioned JSON lines, one file per rank, when the program
ends; every renderer in hpcarray.profiling reads only these files.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from hpcarray import __version__

TRACE_VERSION = 1

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame():
    """The innermost frame outside the hpcarray package (and NumPy): the user's line."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_HERE) and "/numpy/" not in filename:
            return frame
        frame = frame.f_back
    return None


def user_source_line() -> str:
    """'file.py:LINE' of the innermost frame outside the hpcarray package (and NumPy)."""
    frame = user_frame()
    if frame is None:
        return "?"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


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
        rec = {"type": "task", "id": task_id, "op": op_id, "rank": self.rank, "proc": proc,
               "tile": [list(t) for t in tile], "start": start, "end": end, "bytes": nbytes}
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
        self.directory.mkdir(parents=True, exist_ok=True)
        header = {"type": "header", "version": TRACE_VERSION, "rank": self.rank,
                  "nranks": self.nranks, "workers": self.workers, "script": script,
                  "argv": argv, "t0_ns": self.wall0, "hpcarray_version": __version__}
        path = self.path()
        with self.lock, open(path, "w") as f:
            f.write(json.dumps(header) + "\n")
            for rec in self.records:
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
            f.write(json.dumps({"type": "end", "t_ns": self.now()}) + "\n")
        return path
