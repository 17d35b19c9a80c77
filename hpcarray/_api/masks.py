"""Boolean masks and row layouts across ranks: `a[mask]`, `nonzero` and `x[mask] = values`
need each rank to own runs of whole rows (a run of C order) of the array and its mask;
arrays tiled otherwise are laid out by rows first (each element moves at most once).
Each rank then compacts its own rows, and the runs are placed onto the result's tiles
(runtime/runs.py). Nothing is gathered, not even the mask.
"""

from __future__ import annotations

import numpy as np

from hpcarray._api.convert import is_array, new_array
from hpcarray.runtime import get_runtime
from hpcarray.runtime.algorithms import runs
from hpcarray.runtime.partition import ALL, Tiling


def compacts(a, mask) -> bool:
    """Several ranks and `a[mask]` with a boolean hpcarray mask of a's shape or of its
    leading axes (rows of a): each rank compacts its own rows and nothing is gathered,
    not even the mask."""
    return leading_mask(a, mask) and rowwise(a)


def leading_mask(a, mask) -> bool:
    """A boolean hpcarray array of the shape of a's leading axes (all of them, or rows)."""
    return (is_array(mask) and mask.dtype == bool and 0 < mask.ndim <= a.ndim
            and mask.shape == a.shape[:mask.ndim])


def by_rows(*arrays) -> bool:
    """Whole arrays of their own (no alias), tiled alike and spread over the ranks so
    that each rank owns a run of whole rows (a run of C order)."""
    rt = get_runtime()
    first = arrays[0]
    tiling = first._v.store.tiling
    for x in arrays:
        store = x._v.store
        if not x._v.is_whole or store.is_alias or not store.tiling.same_as(tiling):
            return False
    return tiling.owners[0] != ALL and all(
        runs.owned_rows(first._v.store, r) is not None for r in range(rt.nranks))


def rowwise(x) -> bool:
    """Several ranks, and x can be laid out with each rank owning a run of whole rows
    (not where it has too few rows to spread)."""
    rt = get_runtime()
    if rt.dist is None or x.ndim == 0:
        return False
    return by_rows(x) or rt.tiling_rows(x.shape).owners[0] != ALL


def in_rows(*arrays) -> list:
    """Arrays of one shape (`rowwise`) laid out alike with each rank owning a run of
    whole rows. Arrays tiled otherwise (blocks, views) are copied into such a layout: each
    element moves at most once, nothing is gathered."""
    if by_rows(*arrays):
        return list(arrays)
    from hpcarray._api.manipulation import assign

    tiling = get_runtime().tiling_rows(arrays[0].shape)
    laid = []
    for x in arrays:
        y = new_array(x.shape, x.dtype, tiling=tiling)
        assign(y, x)
        laid.append(y)
    return laid


def compact(a, mask):
    """a[mask] across ranks: each rank's selected elements (in C order) form one run of
    the result, placed onto the result's tiles."""
    if mask.ndim == a.ndim:
        a, mask = in_rows(a, mask)
    else:
        (a,) = in_rows(a)
        mask = rows_like(mask, a)
    rt = get_runtime()
    sa, sm = a._v.store, mask._v.store
    op = rt.operation("getitem", [sa, sm], [])  # the SPMD check; flushes fusion
    with rt.collective("compaction", op):
        rt.settle(sa)
        rt.settle(sm)
        lo, hi = runs.owned_rows(sa, rt.rank)
        picked_rows = sa.rows(lo, hi)[sm.rows(lo, hi)]
        flat = place(rt, [picked_rows.reshape(-1)], a.dtype)[0]
    if mask.ndim == a.ndim:
        return flat
    from hpcarray._api.manipulation import reshape

    return reshape(flat, (-1,) + a.shape[mask.ndim:])


def rows_like(mask, a):
    """The mask of a's leading axes tiled along them like `a` (laid out by rows): each
    rank then holds the mask of its own rows."""
    from hpcarray._api.manipulation import assign

    rows = a._v.store.tiling
    k = mask.ndim
    tiling = Tiling(mask.shape, rows.counts[:k], get_runtime().nranks, edges=rows.edges[:k])
    store = mask._v.store
    if mask._v.is_whole and not store.is_alias and store.tiling.same_as(tiling):
        return mask
    laid = new_array(mask.shape, bool, tiling=tiling)
    assign(laid, mask)
    return laid


def nonzero_runs(name: str, a, flat: bool = False) -> list:
    """Across ranks (see `rowwise`): the indices of a's nonzero elements (one array per
    axis, or flat indices), each rank finding those of its own rows."""
    (a,) = in_rows(a)
    rt = get_runtime()
    store = a._v.store
    op = rt.operation(name, [store], [])
    with rt.collective("compaction", op):
        rt.settle(store)
        lo, hi = runs.owned_rows(store, rt.rank)
        found = np.nonzero(store.rows(lo, hi))
        found[0][...] += lo
        if flat:
            found = (np.ravel_multi_index(found, a.shape).astype(np.intp, copy=False),)
        return place(rt, list(found), np.intp)


def place(rt, parts: list[np.ndarray], dtype) -> list:
    """One result per part: every rank's part, one after the other in rank order."""
    sizes = rt.comm.allgather_obj(parts[0].size)
    outs = []
    for part in parts:
        out = new_array((sum(sizes),), dtype)
        runs.place_runs(rt, out._v.store, part, sizes)
        outs.append(out)
    return outs
