"""Moving single elements across ranks, no gather: advanced indexing, and operations that
are pure data movement (diagonal, repeat, pad by reflection, a.flat[...]).

Reads (`pull_elements`): each rank asks the owners of the source elements of its own
tiles for them. Writes (`scatter_elements`): every rank knows the whole index (index
arrays decide result shapes, so they reach every rank anyway), hence every rank knows,
for each element, which rank owns its destination, and each rank sends the values it
owns to the ranks that need them, in the order of the index. Assignments keep NumPy's
rule that the last of repeated indices wins.

Collective: every rank calls these at the same point of the program (main thread).
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.partition import ALL
from hpcarray.runtime.view import View


def store_points(view: View, coords: list[np.ndarray]) -> list[np.ndarray]:
    """Store coordinates of the view elements at `coords` (one array per view axis)."""
    shape = np.broadcast_shapes(*(c.shape for c in coords)) if coords else ()
    points = [np.full(shape, s, np.intp) for s in view.start]
    for c, (d, step) in zip(coords, view.dims):
        if d >= 0:
            points[d] = points[d] + c * step
    return points


def owners_of(view: View, points: list[np.ndarray], nranks: int) -> np.ndarray:
    """The rank owning each store point (ALL where the store is replicated)."""
    tiling = view.store.tiling
    if tiling.owners[0] == ALL:
        return np.full(points[0].shape if points else (), ALL, np.intp)
    flat = np.zeros(points[0].shape, np.intp)
    for p, edges, stride in zip(points, tiling.edges, tiling.strides):
        flat += (np.searchsorted(np.asarray(edges), p, side="right") - 1) * stride
    return np.asarray(tiling.owners, np.intp)[flat]


def _receivers(owner: int, nranks: int):
    return range(nranks) if owner == ALL else (owner,)


def pull_elements(rt, out: View, src: View, coords_of) -> None:
    """out = src's elements at `coords_of(rect)`: for a rectangle of `out` (the whole of
    a fresh store), the view coordinates of src (one array per axis of src) of its
    elements.

    Each rank works out the sources of just the tiles of `out` it fills, asks their owners
    for the elements it lacks (one all-to-all of flat positions) and gets them back (a
    second): work and memory per rank follow its share of `out`, not the whole of it.
    """
    me, nranks = rt.rank, rt.nranks
    rt.settle(src.store)
    rt.settle(out.store)
    store = src.store
    tiles = []  # (rect, owner per element, store points) of the tiles this rank fills
    asks: list[list[np.ndarray]] = [[] for _ in range(nranks)]
    for rect, owner in out.launch_tiles():
        if owner != me and owner != ALL:
            continue
        points = [np.asarray(p).reshape(-1) for p in store_points(src, coords_of(rect))]
        own = owners_of(src, points, nranks)
        tiles.append((rect, own, points))
        for r in range(nranks):
            from_r = own == r
            if r != me and from_r.any():
                asks[r].append(np.ravel_multi_index(tuple(p[from_r] for p in points),
                                                    store.shape))
    wanted = rt.comm.alltoall_obj([_concat(a, np.intp) for a in asks])
    replies = [_get(store, np.unravel_index(w, store.shape)) if r != me
               else np.empty(0, store.dtype) for r, w in enumerate(wanted)]
    received = rt.comm.alltoall_obj(replies)
    rt.sent[1] += sum(sum(x.nbytes for x in a) + b.nbytes
                      for r, (a, b) in enumerate(zip(asks, replies)) if r != me)
    offsets = [0] * nranks
    for rect, own, points in tiles:
        tile = np.empty(own.shape, store.dtype)
        local = (own == me) | (own == ALL)
        tile[local] = _get(store, tuple(p[local] for p in points))
        for r in range(nranks):
            from_r = own == r
            n = int(from_r.sum()) if r != me else 0
            if n:
                tile[from_r] = received[r][offsets[r]:offsets[r] + n]
                offsets[r] += n
        dst = out.store.local(rect)  # out is the whole of its store
        dst[...] = tile.reshape(dst.shape)
    rt.dist.note_write(out.store, tuple((0, n) for n in out.shape))


def _local(store, points: tuple) -> tuple:
    """Store points (global indices) as indices into this rank's block."""
    origin = store.block.origin
    return tuple(p - o if o else p for p, o in zip(points, origin))


def _get(store, points: tuple) -> np.ndarray:
    return store.buffer[_local(store, points)]


def _assign(buffer: np.ndarray, points: tuple, values: np.ndarray) -> None:
    buffer[points] = values


def scatter_elements(rt, dst: View, dst_points: list[np.ndarray], value,
                     apply=None) -> None:
    """dst's store at dst_points[:][i] = value[i] (value: a NumPy array or scalar every
    rank holds, or the View of an array), in index order, so the last of repeats wins.
    `apply(buffer, points, values)` replaces the assignment (ufunc.at; values None where
    `value` is None)."""
    apply = apply or _assign
    me, nranks = rt.rank, rt.nranks
    store = dst.store
    rt.settle(store)
    shape = dst_points[0].shape
    dst_owner = owners_of(dst, dst_points, nranks).reshape(-1)
    pts = [p.reshape(-1) for p in dst_points]
    mine = (dst_owner == me) | (dst_owner == ALL)
    if value is None:
        apply(store.buffer, _local(store, tuple(p[mine] for p in pts)), None)
    elif not isinstance(value, View):  # every rank has the values
        vals = np.broadcast_to(np.asarray(value), shape).reshape(-1)
        apply(store.buffer, _local(store, tuple(p[mine] for p in pts)), vals[mine])
    else:
        rt.settle(value.store)
        vview = value.broadcast_to(shape)
        vpoints = store_points(vview, [np.arange(n, dtype=np.intp).reshape(
            (-1,) + (1,) * (len(shape) - d - 1)) for d, n in enumerate(shape)])
        vpoints = [np.broadcast_to(p, shape).reshape(-1) for p in vpoints]
        vowner = owners_of(vview, vpoints, nranks)
        vstore = vview.store
        sends = []
        for r in range(nranks):
            wanted = ((dst_owner == r) | (dst_owner == ALL)) & (vowner == me)
            sends.append(_get(vstore, tuple(p[wanted] for p in vpoints))
                         if r != me and wanted.any() else np.empty(0, vstore.dtype))
        incoming = rt.comm.alltoall_obj(sends)
        rt.sent[1] += sum(x.nbytes for r, x in enumerate(sends) if r != me)
        vals = np.empty(int(mine.sum()), vstore.dtype)
        vown = vowner[mine]
        local = (vown == me) | (vown == ALL)
        vals[local] = _get(vstore, tuple(p[mine][local] for p in vpoints))
        for src in range(nranks):
            if src != me:
                vals[vown == src] = incoming[src]
        apply(store.buffer, _local(store, tuple(p[mine] for p in pts)), vals)
    rt.dist.note_write(store, dst.image(tuple((0, n) for n in dst.shape)))


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype)
