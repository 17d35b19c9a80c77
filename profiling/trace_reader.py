"""Read a profile directory of per-rank JSON-lines traces (format version 1).

Each rank writes ``trace.<rank>.jsonl``: a header, then ``store``, ``op``, ``task``, ``copy``,
``compile`` and ``edge`` records, ``gpu`` records (a task's span on the rank's GPU, whose
device the header's ``gpu`` names) where tasks ran on a GPU, then ``end``. Unknown keys and
unknown record types are ignored, so a newer runtime can add fields; a header whose version
is newer than :data:`SUPPORTED_VERSION` is refused with :class:`TraceError`. A file cut
short (a rank killed while writing it) is read up to the cut, with a warning in
``Profile.warnings`` naming the file and line.

Times in the model are nanoseconds on one global axis: each rank's ``start``/``end`` are
relative to its own ``t0_ns``; the reader adds ``t0_ns - min(t0_ns over ranks)``.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_VERSION = 1
GPU_PROC = -2  # the `proc` of GPU spans (-1: copies)
_TRACE_RE = re.compile(r"^trace\.(\d+)\.jsonl$")


class TraceError(Exception):
    """A profile directory or trace file that cannot be read."""


@dataclass(slots=True)
class Header:
    rank: int
    nranks: int
    workers: int
    script: str
    argv: list[str]
    t0_ns: int
    version: int
    hpcarray_version: str = ""
    gpu: int | None = None  # the rank's GPU, where its tasks ran on one


@dataclass(slots=True)
class Store:
    id: int
    shape: tuple[int, ...]
    dtype: str
    name: str | None


@dataclass(slots=True)
class Op:
    id: int
    name: str
    src: str
    reads: list[tuple[int, int]]
    writes: list[tuple[int, int]]


@dataclass(slots=True)
class Task:
    """A point task (``is_copy`` False), a copy/message (``is_copy`` True) or a point
    task's span on its rank's GPU (``proc`` GPU_PROC; ``id`` the task's) on one rank."""

    rank: int
    id: int
    op: int
    proc: int
    start: int
    end: int
    bytes: int
    tile: list | None = None
    is_copy: bool = False
    kind: str = ""
    side: str = ""
    src: int = -1
    dst: int = -1
    tag: int = -1
    store: int = -1

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(slots=True)
class Compile:
    """Time a thread spent importing numba and compiling a kernel, inside ``task`` (-1:
    outside any task)."""

    rank: int
    task: int
    op: int
    proc: int
    start: int
    end: int

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(slots=True)
class Edge:
    rank: int
    src: int
    dst: int
    kind: str


@dataclass
class Profile:
    """Everything recorded in a profile directory (possibly filtered)."""

    directory: Path
    headers: dict[int, Header] = field(default_factory=dict)
    stores: dict[int, Store] = field(default_factory=dict)
    ops: dict[int, Op] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)  # point tasks, all ranks
    copies: list[Task] = field(default_factory=list)  # copies, all ranks
    gpu: list[Task] = field(default_factory=list)  # tasks' GPU spans, all ranks
    edges: list[Edge] = field(default_factory=list)
    compiles: list[Compile] = field(default_factory=list)
    end_ns: dict[int, int] = field(default_factory=dict)  # per rank, global axis
    warnings: list[str] = field(default_factory=list)  # what was read with doubts

    @property
    def ranks(self) -> list[int]:
        return sorted(self.headers)

    @property
    def script(self) -> str:
        for h in self.headers.values():
            return h.script
        return "program"

    def workers(self, rank: int) -> int:
        h = self.headers.get(rank)
        return h.workers if h else 1

    def span(self) -> tuple[int, int]:
        """(first start, last end) over tasks, copies and GPU spans, in ns; (0, 0) when
        empty."""
        events = [*self.tasks, *self.copies, *self.gpu]
        if not events:
            return (0, 0)
        return (min(e.start for e in events), max(e.end for e in events))

    def op_name(self, op_id: int) -> str:
        op = self.ops.get(op_id)
        return op.name if op else f"op{op_id}"

    def compile_in_tasks(self) -> dict[tuple[int, int], int]:
        """(rank, task id) -> ns of the task spent compiling (not the operation's time)."""
        out: dict[tuple[int, int], int] = {}
        for c in self.compiles:
            key = (c.rank, c.task)
            out[key] = out.get(key, 0) + c.duration
        return out


def trace_files(directory: str | Path) -> dict[int, Path]:
    """The trace files of a profile directory, by rank."""
    d = Path(directory)
    if not d.is_dir():
        raise TraceError(f"profile directory not found: {d}")
    files = {}
    for p in d.iterdir():
        m = _TRACE_RE.match(p.name)
        if m:
            files[int(m.group(1))] = p
    if not files:
        raise TraceError(f"no trace.<rank>.jsonl files in {d}")
    return dict(sorted(files.items()))


def _pairs(v: Iterable) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in v]


def _records(path: Path, warnings: list[str]) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each line; chunks of lines are decoded as one JSON array,
    which is several times faster than one ``json.loads`` per line. A cut last line ends
    the records with a warning."""
    loads = json.loads
    lineno = 0
    with open(path, encoding="utf-8") as f:
        while True:
            lines = f.readlines(1 << 22)
            if not lines:
                return
            try:
                recs = loads("[" + ",".join(lines) + "]")
                if all(isinstance(r, dict) for r in recs):
                    for r in recs:
                        lineno += 1
                        yield lineno, r
                    continue
            except ValueError:
                pass
            for line in lines:  # slow path: blank, bad or truncated lines
                lineno += 1
                if not line.strip():
                    continue
                try:
                    rec = loads(line)
                    if not isinstance(rec, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    if lineno > 1 and not line.endswith("\n"):
                        # a rank killed while writing: keep what was read
                        warnings.append(f"{path}:{lineno}: trace cut short (its rank stopped "
                                        f"while writing it?); read {lineno - 1} lines")
                        return
                    raise TraceError(f"{path}:{lineno}: not a trace record ({e})") from None
                yield lineno, rec


def _read_rank(path: Path, prof: Profile, offset: int) -> None:
    header: Header | None = None
    rank = -1
    ended, lineno, before = False, 0, len(prof.warnings)
    for lineno, rec in _records(path, prof.warnings):
        typ = rec.get("type")
        if header is None:
            if typ != "header":
                raise TraceError(f"{path}: first record is {typ!r}, expected a header")
            version = int(rec.get("version", 0))
            if version > SUPPORTED_VERSION:
                raise TraceError(
                    f"{path}: trace format version {version} is newer than this reader "
                    f"supports ({SUPPORTED_VERSION}); upgrade hpcarray to read it"
                )
            rank = int(rec.get("rank", 0))
            header = Header(
                rank=rank,
                nranks=int(rec.get("nranks", 1)),
                workers=int(rec.get("workers", 1)),
                script=str(rec.get("script") or "program"),
                argv=list(rec.get("argv") or []),
                t0_ns=int(rec.get("t0_ns", 0)),
                version=version,
                hpcarray_version=str(rec.get("hpcarray_version", "")),
                gpu=None if rec.get("gpu") is None else int(rec["gpu"]),
            )
            prof.headers[rank] = header
            continue
        try:
            if typ == "task":
                prof.tasks.append(
                    Task(rank, rec["id"], rec["op"], rec.get("proc", 0),
                         rec["start"] + offset, rec["end"] + offset,
                         rec.get("bytes", 0), rec.get("tile"))
                )
            elif typ == "copy":
                prof.copies.append(
                    Task(rank, rec["id"], rec.get("op", -1), -1,
                         rec["start"] + offset, rec["end"] + offset,
                         rec.get("bytes", 0), rec.get("rect"), True,
                         rec.get("kind", ""), rec.get("side", ""), rec.get("src", -1),
                         rec.get("dst", -1), rec.get("tag", -1), rec.get("store", -1))
                )
            elif typ == "gpu":
                prof.gpu.append(Task(rank, rec["task"], rec.get("op", -1), GPU_PROC,
                                     rec["start"] + offset, rec["end"] + offset, 0))
            elif typ == "edge":
                prof.edges.append(Edge(rank, rec["src"], rec["dst"], rec.get("kind", "RAW")))
            elif typ == "compile":
                prof.compiles.append(Compile(rank, rec.get("task", -1), rec.get("op", -1),
                                             rec.get("proc", 0), rec["start"] + offset,
                                             rec["end"] + offset))
            elif typ == "op":
                if rec["id"] not in prof.ops:
                    prof.ops[rec["id"]] = Op(rec["id"], str(rec.get("name", "?")),
                                             str(rec.get("src") or ""),
                                             _pairs(rec.get("reads", ())),
                                             _pairs(rec.get("writes", ())))
            elif typ == "store":
                if rec["id"] not in prof.stores:
                    name = rec.get("name")
                    prof.stores[rec["id"]] = Store(rec["id"], tuple(rec.get("shape", ())),
                                                   str(rec.get("dtype", "")),
                                                   None if name is None else str(name))
            elif typ == "end":
                ended = True
                t_ns = int(rec.get("t_ns", 0))  # absolute (same clock as t0_ns) or relative
                t0 = header.t0_ns
                prof.end_ns[rank] = t_ns - (t0 - offset) if t_ns >= t0 > 0 else t_ns + offset
            elif typ == "header":
                raise TraceError(f"{path}:{lineno}: second header record")
        except (KeyError, TypeError, ValueError) as e:
            raise TraceError(f"{path}:{lineno}: malformed {typ} record ({e})") from None
    if header is None:
        raise TraceError(f"{path}: empty trace file")
    if not ended and len(prof.warnings) == before:
        prof.warnings.append(f"{path}:{lineno}: trace ends without its end record (its "
                             f"rank stopped while writing it?); read {lineno} lines")


def load_profile(
    directory: str | Path,
    *,
    start: float | None = None,
    end: float | None = None,
    ranks: Iterable[int] | None = None,
) -> Profile:
    """Load all ranks of a profile directory; optionally keep only a window and some ranks.

    ``start``/``end`` are seconds from the beginning of the run (the earliest rank's t0);
    a task or copy is kept when it overlaps the window.
    """
    files = trace_files(directory)
    wanted = None if ranks is None else set(ranks)
    if wanted is not None:
        missing = sorted(wanted - set(files))
        if missing:
            raise TraceError(f"no trace for rank(s) {missing} in {directory}")
    t0s = {r: _peek_t0(p) for r, p in files.items()}
    base = min(t0s.values())
    prof = Profile(Path(directory))
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of small acyclic objects: the cyclic GC would rescan them often
    try:
        for r, p in files.items():
            if wanted is not None and r not in wanted:
                continue
            _read_rank(p, prof, t0s[r] - base)
    finally:
        if gc_was_on:
            gc.enable()
    return filter_profile(prof, start=start, end=end)


def _peek_t0(path: Path) -> int:
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    try:
        rec = json.loads(first)
    except ValueError:
        raise TraceError(f"{path}: first line is not JSON") from None
    if not isinstance(rec, dict) or rec.get("type") != "header":
        raise TraceError(f"{path}: first record is not a header")
    return int(rec.get("t0_ns", 0))


def filter_profile(
    prof: Profile,
    *,
    start: float | None = None,
    end: float | None = None,
    ranks: Iterable[int] | None = None,
) -> Profile:
    """A new Profile keeping tasks/copies overlapping [start, end] s, and only ``ranks``."""
    if start is None and end is None and ranks is None:
        return prof
    lo = -(2**62) if start is None else int(start * 1e9)
    hi = 2**62 if end is None else int(end * 1e9)
    keep = None if ranks is None else set(ranks)

    def ok(t: Task) -> bool:
        return t.end >= lo and t.start <= hi and (keep is None or t.rank in keep)

    out = Profile(prof.directory, stores=prof.stores, ops=prof.ops, warnings=prof.warnings)
    out.headers = {r: h for r, h in prof.headers.items() if keep is None or r in keep}
    out.end_ns = {r: v for r, v in prof.end_ns.items() if keep is None or r in keep}
    out.tasks = [t for t in prof.tasks if ok(t)]
    out.copies = [c for c in prof.copies if ok(c)]
    out.gpu = [g for g in prof.gpu if ok(g)]
    out.compiles = [c for c in prof.compiles if ok(c)]  # type: ignore[arg-type]
    ids = {(t.rank, t.id) for t in out.tasks} | {(c.rank, c.id) for c in out.copies}
    out.edges = [e for e in prof.edges if (e.rank, e.src) in ids and (e.rank, e.dst) in ids]
    return out
