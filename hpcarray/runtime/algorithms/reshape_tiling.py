"""Reshapes that keep their base's tiles, so that `arange(n * n).reshape(n, n)` stays
distributed across ranks instead of being gathered and computed on every rank.

A C-order reshape of a whole contiguous store keeps every element at its flat position.
When the store and its reshape are both cut into slabs along their first axis at the same
flat positions, tile i of one holds exactly the elements of tile i of the other: the
reshape is a *matched* alias, and halos and writes through it work tile by tile. Two ways
to line the slabs up:
- cut the reshape where its base's tiles end, when those ends are whole rows of it;
- else cut the reshape into slabs and move the base's tile edges there: the elements
  between old and new edges (less than a row per edge) change owner, point to point.
A base cut into blocks (many ranks) is first cut into as many slabs, once.
"""

from __future__ import annotations

import math

import numpy as np

from hpcarray.runtime.distribution import StoreState
from hpcarray.runtime.partition import ALL, Tiling, intersect
from hpcarray.runtime.store import Store


def _flat_edges(tiling: Tiling, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    if not tiling.is_slabs:
        return None
    row = math.prod(shape[1:])
    return tuple(e * row for e in tiling.edges[0])


def _row_edges(flat: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...] | None:
    row = math.prod(shape[1:])
    if row == 0 or any(f % row for f in flat):
        return None
    return tuple(f // row for f in flat)


def _covers(buffer: np.ndarray, root: Store) -> bool:
    """`buffer` is a C-order reshape of the whole of root's buffer."""
    base = root.buffer
    return (buffer.dtype == base.dtype and buffer.size == base.size and buffer.ndim > 0
            and buffer.size > 0 and buffer.flags.c_contiguous and base.flags.c_contiguous
            and buffer.ctypes.data == base.ctypes.data)


def matched_tiling(rt, root: Store, buffer: np.ndarray) -> Tiling | None:
    """A tiling for an alias of `root` over `buffer` whose tiles are root's, tile for tile
    (moving root's tile edges if that is what it takes), or None where there is none."""
    if rt.dist is None or not _covers(buffer, root):
        return None
    return reshape_tiling(rt, root, buffer.shape)


def reshape_tiling(rt, root: Store, shape: tuple[int, ...]) -> Tiling | None:
    """The matched tiling of a C-order reshape of the whole of `root` to `shape` (see
    matched_tiling), or None."""
    if not shape or not math.prod(shape):
        return None
    natural = rt.tiling(shape)
    if root.tiling.owners[0] == ALL:  # one replicated tile: its reshape is one tile too
        return natural if len(natural) == 1 else None
    ntiles = len(root.tiling)
    if not root.tiling.is_slabs:  # blocks: cut the root into as many slabs first
        if root.pinned or root.shape[0] < ntiles:
            return None
        retile(rt, root, Tiling.slabs(root.shape, rt.cut(root.shape[0], ntiles), rt.nranks))
    rows = _row_edges(_flat_edges(root.tiling, root.shape), shape)
    if rows is not None:
        return Tiling.slabs(shape, rows, rt.nranks)
    # Slabs owned rank by rank like the usual tiling of the shape where that splits only
    # the first axis between ranks (workers may split it further): arrays of this shape
    # computed from the reshape then exchange nothing but halos.
    if root.pinned or ntiles != len(natural) or shape[0] < ntiles:
        return None
    slabs = Tiling.slabs(shape, rt.cut(shape[0], ntiles), rt.nranks)
    root_rows = _row_edges(_flat_edges(slabs, shape), root.shape)
    if root_rows is None:
        return None
    retile(rt, root, Tiling.slabs(root.shape, root_rows, rt.nranks))
    return slabs


def retile(rt, store: Store, new: Tiling) -> None:
    """Give a root store a new tiling; pieces that change owner move to their new owner
    (after the tasks writing them). Collective bookkeeping: every rank calls it."""
    old, dist = store.tiling, rt.dist
    st = dist.state(store)
    op = rt.operation("retile", [store], [store])
    same_everywhere = all(st.everywhere.get(t, st.fresh) == e for t, e in enumerate(st.epochs))
    if not same_everywhere:
        for k, rect in enumerate(new.tiles):
            dst = new.owners[k]
            for j in old.tiles_in(rect):
                src = old.owners[j]
                piece = intersect(rect, old.tiles[j])
                if src != dst and piece is not None:
                    rt.message(op, store, piece, src, dst)
    store.tiling = new
    store.coherence = StoreState(len(new), rt.nranks, store.blocked)
    if not same_everywhere:  # each rank holds just its own tiles now
        store.coherence.epochs = [1] * len(new)
