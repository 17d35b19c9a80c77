"""Operations that move single elements across ranks (advanced indexing, take, put,
diagonal, a.flat[...], ufunc.at): only the elements involved move, nothing is gathered
(runtime/index_exchange.py does the moving).

Where each result element comes from is worked out on zero-memory stand-ins of the source,
one per axis, holding their own coordinates (`coords`): the very NumPy call applied to
them yields the source coordinates, so NumPy's rules (clip and wrap modes, diagonals,
index broadcasting) hold by construction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

from hpcarray._api.convert import is_array
from hpcarray.runtime import get_runtime, index_exchange
from hpcarray.runtime.partition import ALL, Rect, tile_index

CoordsOf = Callable[[Rect], list[np.ndarray]]


def spread(a, value=None) -> bool:
    """Several ranks and an array spread over them: move just the elements involved (a
    replicated array is whole on every rank already)."""
    store = a._v.store
    return (get_runtime().dist is not None and a.ndim > 0 and not store.replicates
            and store.tiling.owners[0] != ALL
            and not (is_array(value) and value._v.store.replicates))


def coords(shape: tuple[int, ...], pick) -> list[np.ndarray]:
    """For each axis, the coordinate along it of every element `pick(x)` selects (`pick`: a
    function of x, or an index), from stand-ins of x holding their own coordinates.
    Where `pick` returns a view (a diagonal, a slice) nothing is materialised yet."""
    if not callable(pick):
        key = pick
        pick = lambda x: x[key]  # noqa: E731
    out = []
    for d, n in enumerate(shape):
        strides = [0] * len(shape)
        strides[d] = np.dtype(np.intp).itemsize
        along = as_strided(np.arange(n, dtype=np.intp), shape=shape, strides=strides,
                           writeable=False)
        out.append(np.asarray(pick(along)))
    return out


def picked(shape: tuple[int, ...], pick) -> CoordsOf:
    """`coords` of `pick`, by rectangle of the result."""
    where = coords(shape, pick)
    return lambda rect: [c[tile_index(rect)] for c in where]


def pull(name: str, out, a, coords_of: CoordsOf) -> None:
    """out[...] = a's elements at `coords_of` (see index_exchange.pull_elements), as one
    collective operation."""
    rt = get_runtime()
    op = rt.operation(name, [a._v.store], [out._v.store])  # the SPMD check; flushes fusion
    with rt.collective("index exchange", op):
        index_exchange.pull_elements(rt, out, a, coords_of)


def push(name: str, a, where: list[np.ndarray], value, apply=None) -> None:
    """a's elements at `where` (view coordinates, one array per axis) = value (a NumPy
    value every rank holds, or an hpcarray array) in index order, or `apply(buffer,
    points, values)` to them (see index_exchange.scatter_elements), as one collective."""
    if not where[0].size:
        return
    rt = get_runtime()
    reads = [value._v.store] if is_array(value) else []
    op = rt.operation(name, [a._v.store] + reads, [a._v.store])
    points = index_exchange.store_points(a._v, where)
    with rt.collective("index exchange", op):
        index_exchange.scatter_elements(rt, a, points, value, apply)


def index_tiled_like(a, arrays: list, out) -> bool:
    """Several ranks, a spread over them, and one integer hpcarray index array per axis
    of a, all whole arrays tiled like `out`: then each rank reads just its own part of
    the index (`pull_by_index`), which is never gathered."""
    if not spread(a) or len(arrays) != a.ndim or out._v.store.tiling.owners[0] == ALL:
        return False
    tiling = out._v.store.tiling
    return all(is_array(i) and i.dtype.kind in "iu" and i.shape == out.shape and i._v.is_whole
               and not i._v.store.is_alias and i._v.store.tiling.same_as(tiling)
               for i in arrays)


def pull_by_index(name: str, out, a, arrays: list, mode: str = "raise") -> None:
    """out[...] = a[arrays[0][...], arrays[1][...], ...] where every index array is tiled
    like out (see `index_tiled_like`): each rank checks and reads its own index tiles."""
    rt = get_runtime()
    for i in arrays:
        rt.settle(i._v.store)
    bufs = [i._v.store.buffer for i in arrays]
    mine = [rect for rect, owner in out._v.launch_tiles() if owner in (rt.rank, ALL)]
    if mode == "raise":
        _check_bounds(rt, a.shape, bufs, mine, out.shape)

    def coords_of(rect: Rect) -> list[np.ndarray]:
        got = []
        for buf, n in zip(bufs, a.shape):
            i = buf[tile_index(rect)].astype(np.intp)
            got.append(i % n if mode == "wrap" else np.clip(i, 0, n - 1) if mode == "clip"
                       else np.where(i < 0, i + n, i))
        return got

    pull(name, out, a, coords_of)


def _check_bounds(rt, sizes, bufs, rects, shape) -> None:
    """NumPy's IndexError for the first index out of bounds (first axis, then C order), the
    same on every rank: each rank checks its own tiles, and they agree on the first."""
    first = None
    for axis, (buf, n) in enumerate(zip(bufs, sizes)):
        for rect in rects:
            i = buf[tile_index(rect)]
            bad = np.flatnonzero((i < -n) | (i >= n))
            if bad.size:
                local = np.unravel_index(bad[0], i.shape)
                pos = np.ravel_multi_index(tuple(int(c) + lo for c, (lo, _) in
                                                 zip(local, rect)), shape)
                cand = (axis, int(pos), int(i.reshape(-1)[bad[0]]), n)
                first = cand if first is None else min(first, cand)
    reports = [r for r in rt.comm.allgather_obj(first) if r is not None]
    if reports:
        axis, _, value, n = min(reports)
        raise IndexError(f"index {value} is out of bounds for axis {axis} with size {n}")
