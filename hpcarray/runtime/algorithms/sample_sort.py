"""Sorting a 1-D array spread over ranks (sample sort), moving each element about twice;
also its sorting indices (argsort).

Each rank sorts the tiles it owns; samples of every rank's run pick splitters, so that
rank r receives the values between splitters r-1 and r (one all-to-all) and sorts them;
a second all-to-all then moves those runs onto the tiles of the result each rank owns.
A gather would move the whole array to every rank instead.

Collective: every rank calls it at the same point of the program (main thread).
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.algorithms.runs import owned_range, place_runs
from hpcarray.runtime.partition import ALL
from hpcarray.runtime.store import Store

SAMPLES_PER_RANK = 64


def sample_sort(rt, src: Store, dst: Store, kind, indices: bool = False,
                stable: bool = True) -> bool:
    """Sort 1-D `src` into `dst` (same shape and natural tiling, neither an alias), or
    write its sorting indices (`indices`).

    Indices come out in stable order: equal values in the order of their positions. Where
    that order is not asked for (`stable` False) and equal values exist, NumPy's own
    algorithm decides their order: nothing is written and False is returned (every rank
    agrees), so that the caller can run NumPy's sort instead.
    """
    comm, me, nranks = rt.comm, rt.rank, rt.nranks
    rt.settle(src)
    rt.settle(dst)
    lo, hi = owned_range(src, me)
    local = src.rows(lo, hi)
    if indices:
        order = np.argsort(local, kind="stable")
        run, positions = local[order], order + lo
    else:
        run, positions = np.sort(local, kind=kind), None
    # Splitters: evenly spaced samples of every rank's sorted run. Equal values all go to
    # one rank, which receives the buckets in rank order (so in order of position).
    picks = np.linspace(0, run.size - 1, min(run.size, SAMPLES_PER_RANK)).astype(np.intp)
    samples = np.sort(np.concatenate(comm.allgather_obj(run[picks])), kind="stable")
    cuts = samples[(np.arange(1, nranks) * samples.size) // nranks] if samples.size else \
        np.empty(0, run.dtype)
    edges = [0, *np.searchsorted(run, cuts, side="left").tolist(), run.size]
    buckets = [run[edges[r]:edges[r + 1]] for r in range(nranks)]
    received = np.concatenate(comm.alltoall_obj(buckets))
    rt.sent[1] += sum(b.nbytes for r, b in enumerate(buckets) if r != me)
    if not indices:
        mine = np.sort(received, kind=kind)
    else:
        sent_positions = [positions[edges[r]:edges[r + 1]] for r in range(nranks)]
        arrived = np.concatenate(comm.alltoall_obj(sent_positions))
        rt.sent[1] += sum(b.nbytes for r, b in enumerate(sent_positions) if r != me)
        order = np.argsort(received, kind="stable")
        if not stable and _any_ties(comm, received[order]):
            return False
        mine = arrived[order]
    place_runs(rt, dst, mine, comm.allgather_obj(mine.size))
    return True


def _any_ties(comm, run: np.ndarray) -> bool:
    """Equal values anywhere in the runs of all ranks, one after the other in rank order
    (NaNs count as equal: NumPy's order among them is its algorithm's too)."""
    ends = comm.allgather_obj((_has_ties(run), run[:1], run[-1:]))
    if any(tied for tied, _, _ in ends):
        return True
    lasts = [last for _, _, last in ends if last.size]
    firsts = [first for _, first, _ in ends if first.size]
    return any(_has_ties(np.concatenate([a, b])) for a, b in zip(lasts, firsts[1:]))


def _has_ties(values: np.ndarray) -> bool:
    if values.size < 2:
        return False
    if bool(np.any(values[1:] == values[:-1])):
        return True
    return values.dtype.kind in "fc" and int(np.count_nonzero(np.isnan(values))) > 1


def applies(rt, store: Store) -> bool:
    """Several ranks, a 1-D store of its own spread over them."""
    return (rt.dist is not None and len(store.shape) == 1 and not store.is_alias
            and store.tiling.owners[0] != ALL)
