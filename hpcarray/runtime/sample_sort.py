"""Sorting a 1-D array spread over ranks (sample sort), moving each element about twice.

Each rank sorts the tiles it owns; samples of every rank's run pick splitters, so that
rank r receives the values between splitters r-1 and r (one all-to-all) and sorts them;
a second all-to-all then moves those runs onto the tiles of the result each rank owns.
A gather would move the whole array to every rank instead.

Collective: every rank calls it at the same point of the program (main thread).
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.partition import ALL
from hpcarray.runtime.runs import owned_range, place_runs
from hpcarray.runtime.store import Store

SAMPLES_PER_RANK = 64


def sample_sort(rt, src: Store, dst: Store, kind) -> None:
    """Sort 1-D `src` into `dst` (same shape and natural tiling, neither an alias)."""
    comm, me, nranks = rt.comm, rt.rank, rt.nranks
    rt.settle(src)
    rt.settle(dst)
    lo, hi = owned_range(src, me)
    run = np.sort(src.buffer[lo:hi], kind=kind)
    # Splitters: evenly spaced samples of every rank's sorted run.
    picks = np.linspace(0, run.size - 1, min(run.size, SAMPLES_PER_RANK)).astype(np.intp)
    samples = np.sort(np.concatenate(comm.allgather_obj(run[picks])), kind="stable")
    cuts = samples[(np.arange(1, nranks) * samples.size) // nranks] if samples.size else \
        np.empty(0, run.dtype)
    edges = [0, *np.searchsorted(run, cuts, side="left").tolist(), run.size]
    buckets = [run[edges[r]:edges[r + 1]] for r in range(nranks)]
    mine = np.sort(np.concatenate(comm.alltoall_obj(buckets)), kind=kind)
    rt.sent[1] += sum(b.nbytes for r, b in enumerate(buckets) if r != me)
    place_runs(rt, dst, mine, comm.allgather_obj(mine.size))


def applies(rt, store: Store) -> bool:
    """Several ranks, a 1-D store of its own spread over them."""
    return (rt.dist is not None and len(store.shape) == 1 and not store.is_alias
            and store.tiling.owners[0] != ALL)
