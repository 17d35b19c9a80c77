"""Synthetic version-1 traces for the profiling tests (no runtime needed)."""

from __future__ import annotations

import json
import random
from pathlib import Path

T0 = 1_700_000_000_000_000_000


class TraceWriter:
    """Writes one rank's trace.<rank>.jsonl in the runtime's format (version 1)."""

    def __init__(self, directory: Path, rank: int, nranks: int, workers: int,
                 script: str = "prog.py", t0_ns: int = T0, version: int = 1) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.f = open(directory / f"trace.{rank}.jsonl", "w")
        self.rank = rank
        self.t0 = t0_ns
        self.next_id = 1
        self.write(type="header", version=version, rank=rank, nranks=nranks, workers=workers,
                   script=script, argv=[script], t0_ns=t0_ns, hpcarray_version="0.1.0",
                   future_key={"ignored": True})

    def write(self, **rec: object) -> None:
        self.f.write(json.dumps(rec) + "\n")

    def store(self, sid: int, shape: list[int], name: str | None, dtype: str = "float64") -> None:
        self.write(type="store", id=sid, shape=shape, dtype=dtype, name=name)

    def op(self, oid: int, name: str, src: str, reads: list, writes: list) -> None:
        self.write(type="op", id=oid, name=name, src=src, reads=reads, writes=writes)

    def task(self, op: int, proc: int, start: int, end: int, tile: list, nbytes: int = 800) -> int:
        tid = self.next_id
        self.next_id += 1
        self.write(type="task", id=tid, op=op, rank=self.rank, proc=proc, tile=tile,
                   start=start, end=end, bytes=nbytes, extra="ignored")
        return tid

    def copy(self, op: int, kind: str, side: str, src: int, dst: int, tag: int, store: int,
             rect: list, start: int, end: int, nbytes: int = 800) -> int:
        cid = self.next_id
        self.next_id += 1
        self.write(type="copy", id=cid, op=op, kind=kind, side=side, src=src, dst=dst, tag=tag,
                   store=store, rect=rect, bytes=nbytes, start=start, end=end)
        return cid

    def edge(self, src: int, dst: int, kind: str = "RAW") -> None:
        self.write(type="edge", src=src, dst=dst, kind=kind)

    def close(self, t_ns: int | None = None) -> None:
        self.write(type="end", t_ns=t_ns if t_ns is not None else self.t0 + 10_000_000)
        self.f.close()


# ---------------------------------------------------------------- the known small program
# a = fill(); a = scale(a)   b = fill(); b = scale(b)   c = a + b   (two chains and one join)
CHAIN_OPS = [
    (1, "fill_a", "prog.py:3", [], [[1, 1]]),
    (2, "scale_a", "prog.py:4", [[1, 1]], [[1, 2]]),
    (3, "fill_b", "prog.py:5", [], [[2, 1]]),
    (4, "scale_b", "prog.py:6", [[2, 1]], [[2, 2]]),
    (5, "join_add", "prog.py:7", [[1, 2], [2, 2]], [[3, 1]]),
]
CHAIN_STORES = [(1, [100, 100], "a"), (2, [100, 100], "b"), (3, [100, 100], "c")]


def make_chain_join(directory: Path, nranks: int = 1, workers: int = 2,
                    op_names: dict[int, str] | None = None,
                    src_override: str | None = None) -> dict:
    """Write the two-chains-and-a-join program; returns what was written, per rank.

    Every op runs one task per worker on each rank. With 2+ ranks, before the join each rank
    sends a halo of ``a`` to its right neighbour (and receives one from its left).
    """
    written: dict = {"tasks": {}, "copies": {}, "edges": {}}
    rows = 100 // nranks
    for r in range(nranks):
        w = TraceWriter(directory, r, nranks, workers, t0_ns=T0 + r * 1000)
        for sid, shape, name in CHAIN_STORES:
            w.store(sid, shape, name)
        for oid, name, src, reads, writes in CHAIN_OPS:
            name = (op_names or {}).get(oid, name)
            w.op(oid, name, src_override or src, reads, writes)
        t = 1000
        ids: dict[tuple[int, int], int] = {}
        edges = []
        copies = []
        for oid, *_ in CHAIN_OPS:
            if oid == 5 and nranks > 1:
                right, left = (r + 1) % nranks, (r - 1) % nranks
                sid = w.copy(5, "halo", "send", r, right, 100 + r, 1,
                             [[r * rows + rows - 1, r * rows + rows], [0, 100]], t, t + 500)
                rid = w.copy(5, "halo", "recv", left, r, 100 + left, 1,
                             [[r * rows - 1, r * rows], [0, 100]], t, t + 700)
                copies += [sid, rid]
                edges.append((ids[(2, workers - 1)], sid, "RAW"))
                t += 1000
            for p in range(workers):
                lo = r * rows + p * rows // workers
                hi = r * rows + (p + 1) * rows // workers
                ids[(oid, p)] = w.task(oid, p, t, t + 800 + 100 * p, [[lo, hi], [0, 100]])
            t += 1000
        for p in range(workers):
            edges.append((ids[(1, p)], ids[(2, p)], "RAW"))
            edges.append((ids[(3, p)], ids[(4, p)], "RAW"))
            edges.append((ids[(2, p)], ids[(5, p)], "RAW"))
            edges.append((ids[(4, p)], ids[(5, p)], "RAW"))
            edges.append((ids[(1, p)], ids[(2, p)], "WAW"))
        if copies:
            for p in range(workers):
                edges.append((copies[1], ids[(5, p)], "copy"))
        for a, b, k in edges:
            w.edge(a, b, k)
        w.close()
        written["tasks"][r] = ids
        written["copies"][r] = copies
        written["edges"][r] = edges
    return written


# ---------------------------------------------------------------- a stencil-like loop
def make_stencil(directory: Path, iters: int = 3, nranks: int = 1, workers: int = 2) -> None:
    """grid = zeros(); loop: work = 0.2*(c+n+e+w+s); center[:] = work; then total = sum(grid)."""
    for r in range(nranks):
        w = TraceWriter(directory, r, nranks, workers, script="stencil.py")
        w.store(1, [102, 102], "grid")
        oid, sid = 1, 2
        w.op(oid, "zeros", "stencil.py:5", [], [[1, 1]])
        ver = 1
        t = 0
        for _ in range(iters):
            tmp = sid
            sid += 1
            w.store(tmp, [100, 100], None)
            w.store(sid, [100, 100], "work")
            sid += 1
            oid += 1
            w.op(oid, "add", "stencil.py:12", [[1, ver]], [[tmp, 1]])
            oid += 1
            w.op(oid, "multiply", "stencil.py:12", [[tmp, 1]], [[sid - 1, 1]])
            oid += 1
            w.op(oid, "copy", "stencil.py:13", [[sid - 1, 1], [1, ver]], [[1, ver + 1]])
            ver += 1
            for o in (oid - 2, oid - 1, oid):
                for p in range(workers):
                    w.task(o, p, t, t + 500, [[p * 50, p * 50 + 50], [0, 100]])
                t += 600
        oid += 1
        w.op(oid, "sum", "stencil.py:15", [[1, ver]], [[sid, 1]])
        w.store(sid, [], "total")
        w.close()


# ---------------------------------------------------------------- big random traces
def make_big(directory: Path, ntasks: int, nranks: int = 2, workers: int = 8,
             nops: int = 12, seed: int = 0) -> None:
    """ntasks point tasks in total (spread over ranks and workers), 1 edge per task."""
    rng = random.Random(seed)
    per_rank = ntasks // nranks
    names = ["add", "multiply", "subtract", "sqrt", "exp", "copy", "sum", "dot",
             "where", "maximum", "divide", "negative"][:nops]
    for r in range(nranks):
        w = TraceWriter(directory, r, nranks, workers, script="big.py")
        w.store(1, [10_000, 10_000], "x")
        for i, n in enumerate(names):
            w.op(i + 1, n, f"big.py:{10 + i}", [[1, i]], [[1, i + 1]])
        clock = [0] * workers
        lines = []
        for tid in range(1, per_rank + 1):
            p = tid % workers
            dur = int(rng.expovariate(1 / 20_000)) + 500
            start = clock[p] + rng.randint(0, 2000)
            clock[p] = start + dur
            op = 1 + (tid // 97) % len(names)
            lines.append(
                f'{{"type":"task","id":{tid},"op":{op},"rank":{r},"proc":{p},'
                f'"tile":[[{p * 100},{p * 100 + 100}],[0,10000]],"start":{start},'
                f'"end":{start + dur},"bytes":80000}}\n'
            )
            if tid > workers:
                lines.append(f'{{"type":"edge","src":{tid - workers},"dst":{tid},"kind":"RAW"}}\n')
            if len(lines) > 100_000:
                w.f.writelines(lines)
                lines.clear()
        w.f.writelines(lines)
        w.close(T0 + max(clock))
