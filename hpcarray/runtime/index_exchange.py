"""Advanced indexing across ranks: one all-to-all of the elements involved, no gather.

Every rank knows the whole index (index arrays decide result shapes, so they reach every
rank anyway), hence every rank can work out, for each element, which rank owns its
source and which rank owns its destination. Each rank then sends every other rank exactly
the values it owns and that rank needs, in the order of the index; the receiver places
them. Assignments keep NumPy's rule that the last of repeated indices wins.

Collective: every rank calls these at the same point of the program (main thread).
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.partition import ALL, rect_slices
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


def gather_elements(rt, out, src, src_points: list[np.ndarray]) -> None:
    """out[i] = src's store at src_points[:][i], for every element i of `out` (a fresh
    whole array): each rank fills the tiles of `out` it owns."""
    me, nranks = rt.rank, rt.nranks
    rt.settle(src._v.store)
    rt.settle(out._v.store)
    src_buf = src._v.store.buffer
    src_owner = owners_of(src._v, src_points, nranks)
    tiles = []  # (slices, owner per element, points) of the tiles this rank fills
    sends: list[list[np.ndarray]] = [[] for _ in range(nranks)]
    for rect, owner in out._v.launch_tiles():
        sl = rect_slices(rect)
        own = src_owner[sl].reshape(-1)
        pts = [p[sl].reshape(-1) for p in src_points]
        mask = own == me
        for r in _receivers(owner, nranks):
            if r == me:
                tiles.append((sl, own, pts))
            elif mask.any():
                sends[r].append(src_buf[tuple(p[mask] for p in pts)])
    incoming = rt.comm.alltoall_obj([_concat(x, src_buf.dtype) for x in sends])
    rt.sent[1] += sum(x.nbytes for r, xs in enumerate(sends) if r != me for x in xs)
    offsets = [0] * nranks
    out_buf = out._v.store.buffer
    for sl, own, pts in tiles:
        tile = np.empty(own.shape, out_buf.dtype)
        local = (own == me) | (own == ALL)
        tile[local] = src_buf[tuple(p[local] for p in pts)]
        for s in range(nranks):
            if s == me:
                continue
            from_s = own == s
            n = int(from_s.sum())
            if n:
                tile[from_s] = incoming[s][offsets[s]:offsets[s] + n]
                offsets[s] += n
        out_buf[sl] = tile.reshape(out_buf[sl].shape)
    rt.dist.note_write(out._v.store, tuple((0, n) for n in out.shape))


def scatter_elements(rt, dst, dst_points: list[np.ndarray], value) -> None:
    """dst's store at dst_points[:][i] = value[i] (value: a NumPy array or scalar every
    rank holds, or an hpcarray array), in index order, so the last of repeats wins."""
    me, nranks = rt.rank, rt.nranks
    store = dst._v.store
    rt.settle(store)
    shape = dst_points[0].shape
    dst_owner = owners_of(dst._v, dst_points, nranks).reshape(-1)
    pts = [p.reshape(-1) for p in dst_points]
    mine = (dst_owner == me) | (dst_owner == ALL)
    if not hasattr(value, "_v"):  # every rank has the values
        vals = np.broadcast_to(np.asarray(value), shape).reshape(-1)
        store.buffer[tuple(p[mine] for p in pts)] = vals[mine]
    else:
        rt.settle(value._v.store)
        vview = value._v.broadcast_to(shape)
        vpoints = store_points(vview, [np.arange(n, dtype=np.intp).reshape(
            (-1,) + (1,) * (len(shape) - d - 1)) for d, n in enumerate(shape)])
        vpoints = [np.broadcast_to(p, shape).reshape(-1) for p in vpoints]
        vowner = owners_of(vview, vpoints, nranks)
        vbuf = vview.store.buffer
        sends = []
        for r in range(nranks):
            wanted = ((dst_owner == r) | (dst_owner == ALL)) & (vowner == me)
            sends.append(vbuf[tuple(p[wanted] for p in vpoints)] if r != me and wanted.any()
                         else vbuf[:0].reshape(-1))
        incoming = rt.comm.alltoall_obj(sends)
        rt.sent[1] += sum(x.nbytes for r, x in enumerate(sends) if r != me)
        vals = np.empty(int(mine.sum()), vbuf.dtype)
        vown = vowner[mine]
        local = (vown == me) | (vown == ALL)
        vals[local] = vbuf[tuple(p[mine][local] for p in vpoints)]
        for src in range(nranks):
            if src != me:
                vals[vown == src] = incoming[src]
        store.buffer[tuple(p[mine] for p in pts)] = vals
    rt.dist.note_write(store, dst._v.image(tuple((0, n) for n in dst.shape)))


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype)
