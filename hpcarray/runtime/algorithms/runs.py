"""Runs: results that every rank produces a consecutive piece of (sorted values, the
elements a mask selects), in rank order. One all-to-all moves the pieces onto the tiles
of the 1-D result that each rank owns.

Collective: every rank calls these at the same point of the program (main thread).
"""

from __future__ import annotations

import math

import numpy as np

from hpcarray.runtime.partition import ALL
from hpcarray.runtime.store import Store


def owned_range(store: Store, rank: int) -> tuple[int, int]:
    """The run of the 1-D store that `rank` owns (tiles go to ranks in contiguous runs)."""
    tiling = store.tiling
    mine = [tiling.tiles[t][0] for t in range(len(tiling)) if tiling.owners[t] == rank]
    if not mine:
        return (0, 0)
    return (mine[0][0], mine[-1][1])


def owned_rows(store: Store, rank: int) -> tuple[int, int] | None:
    """The rows [lo, hi) of the first axis whose elements `rank` owns, all of them and
    nothing else (so a consecutive run in C order); None if its tiles are not that."""
    tiling = store.tiling
    rects = [tiling.tiles[t] for t in range(len(tiling)) if tiling.owners[t] == rank]
    if not rects:
        return (0, 0)
    lo, hi = min(r[0][0] for r in rects), max(r[0][1] for r in rects)
    size = sum(math.prod(b - a for a, b in r) for r in rects)
    return (lo, hi) if size == (hi - lo) * math.prod(store.shape[1:]) else None


def place_runs(rt, dst: Store, run: np.ndarray, sizes: list[int]) -> None:
    """Write every rank's `run` (sizes: all ranks' run lengths) one after the other into
    the fresh 1-D store `dst`, each rank filling the part it owns."""
    comm, me, nranks = rt.comm, rt.rank, rt.nranks
    if dst.tiling.owners[0] == ALL:  # a small result: every rank holds all of it
        dst.buffer[...] = np.concatenate(comm.allgather_obj(run))
        rt.sent[1] += run.nbytes * (nranks - 1)
        return
    start = sum(sizes[:me])
    pieces = []
    for r in range(nranks):
        a, b = owned_range(dst, r)
        a, b = max(a, start), min(b, start + run.size)
        pieces.append(run[a - start:b - start] if a < b else run[:0])
    rt.sent[1] += sum(p.nbytes for r, p in enumerate(pieces) if r != me)
    received = comm.alltoall_obj(pieces)
    lo, hi = owned_range(dst, me)
    if hi > lo:
        dst.rows(lo, hi)[...] = np.concatenate(received)
    rt.dist.note_write(dst, ((0, dst.shape[0]),))


def take_runs(rt, src: Store, start: int, count: int) -> np.ndarray:
    """Rows [start, start + count) of `src` (each rank owning a run of whole rows), for
    this rank, where every rank asks for its own run (the inverse of `place_runs`): the
    owners send the rows asked of them, one all-to-all."""
    comm, me = rt.comm, rt.rank
    asked = comm.allgather_obj((start, count))
    lo, hi = owned_rows(src, me)
    pieces = []
    for r, (s, c) in enumerate(asked):
        a, b = max(lo, s), min(hi, s + c)
        pieces.append(src.rows(a, b) if a < b and r != me else src.rows(0, 0))
    rt.sent[1] += sum(p.nbytes for p in pieces)
    received = comm.alltoall_obj(pieces)
    a, b = max(lo, start), min(hi, start + count)
    if a < b:
        received[me] = src.rows(a, b)
    return np.concatenate(received) if count else src.rows(0, 0)
