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

from hpcarray._api.convert import is_array, new_array
from hpcarray.runtime import get_runtime
from hpcarray.runtime.algorithms import index_exchange
from hpcarray.runtime.partition import ALL, Rect, Tiling, tile_index

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
        index_exchange.pull_elements(rt, out._v, a._v, coords_of)


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
        index_exchange.scatter_elements(rt, a._v, points,
                                        value._v if is_array(value) else value, apply)


class IndexLayout:
    """How a result built from integer index arrays maps onto the source `a`: the index
    arrays (whole hpcarray arrays of one shape, spread over the ranks and tiled alike) give
    the result's axes `at .. at + their ndim` and the result is tiled like them there,
    whole along its other axes. Each axis of `a` takes its coordinates either from index
    array j (`("index", j)`) or from result axis k (`("axis", k, coords)`: coords[i] for
    position i along k). Each rank then reads just its own index tiles: nothing gathered.
    """

    def __init__(self, a, arrays: list, at: int, sources: list, shape: tuple[int, ...]):
        self.a, self.arrays, self.at, self.sources, self.shape = a, arrays, at, sources, shape
        itiling = arrays[0]._v.store.tiling
        nb = arrays[0].ndim
        whole = lambda axes: tuple((0, n) for n in axes)  # noqa: E731
        edges = whole(shape[:at]) + itiling.edges + whole(shape[at + nb:])
        self.tiling = Tiling(shape, tuple(len(e) - 1 for e in edges), get_runtime().nranks,
                             edges=edges)
        self.tiling.owners = itiling.owners

    @classmethod
    def of(cls, a, arrays: list, at: int, sources: list, shape) -> IndexLayout | None:
        """The layout, or None where the index arrays do not qualify (then they are
        gathered: small or replicated ones cost nothing to gather)."""
        if not spread(a) or 0 in shape:
            return None
        first = arrays[0]
        tiling = first._v.store.tiling if is_array(first) else None
        if tiling is None or tiling.owners[0] == ALL:
            return None
        if not all(is_array(i) and i.dtype.kind in "iu" and i.shape == first.shape
                   and i._v.is_whole and not i._v.store.is_alias
                   and i._v.store.tiling.same_as(tiling) for i in arrays):
            return None
        return cls(a, arrays, at, sources, tuple(shape))

    def index_rect(self, rect: Rect) -> Rect:
        return rect[self.at:self.at + self.arrays[0].ndim]

    def pull(self, name: str, mode: str = "raise"):
        """A new array: a's elements the index arrays pick (NumPy's modes)."""
        rt = get_runtime()
        out = new_array(self.shape, self.a.dtype, tiling=self.tiling)
        for i in self.arrays:
            rt.settle(i._v.store)
        stores = [i._v.store for i in self.arrays]
        axes = self._index_axes()  # the axes of `a` the index arrays give, in their order
        sizes = [self.a.shape[d] for d in axes]
        if mode == "raise":
            mine = [self.index_rect(rect) for rect, owner in out._v.launch_tiles()
                    if owner in (rt.rank, ALL)]
            _check_bounds(rt, axes, sizes, stores, mine, self.arrays[0].shape)

        def coords_of(rect: Rect) -> list[np.ndarray]:
            shape = tuple(hi - lo for lo, hi in rect)
            nb = self.arrays[0].ndim
            irect = self.index_rect(rect)
            got = []
            for src in self.sources:
                if src[0] == "index":
                    i = stores[src[1]].local(irect).astype(np.intp)
                    n = sizes[src[1]]
                    i = (i % n if mode == "wrap" else np.clip(i, 0, n - 1) if mode == "clip"
                         else np.where(i < 0, i + n, i))
                    i = i.reshape((1,) * self.at + i.shape + (1,) * (len(shape) - self.at - nb))
                else:
                    _, k, along = src
                    lo, hi = rect[k]
                    i = along[lo:hi].reshape(tuple(-1 if d == k else 1
                                                   for d in range(len(shape))))
                got.append(np.broadcast_to(i, shape))
            return got

        pull(name, out, self.a, coords_of)
        return out

    def _index_axes(self) -> list[int]:
        """The axes of `a` that index arrays 0, 1, ... give."""
        return [d for _, d in sorted((src[1], d) for d, src in enumerate(self.sources)
                                     if src[0] == "index")]


def basic_index_layout(a, key: tuple) -> IndexLayout | None:
    """`a[key]` where key is slices (and one Ellipsis) around one run of adjacent integer
    index arrays: `x[perm]` of an N-D x, `x[i, j]`, `x[:, cols]`, `take(x, idx, axis)`."""
    if not spread(a):
        return None
    pos = [p for p, k in enumerate(key) if is_array(k)]
    if not pos or pos != list(range(pos[0], pos[-1] + 1)):
        return None
    ellipses = [p for p, k in enumerate(key) if k is Ellipsis]
    if len(ellipses) > 1 or any(not isinstance(k, slice) for p, k in enumerate(key)
                                if p not in pos and p not in ellipses):
        return None
    if ellipses:
        e, fill = ellipses[0], a.ndim - (len(key) - 1)
        if fill < 0:
            return None
        key = key[:e] + (slice(None),) * fill + key[e + 1:]
        pos = [p for p, k in enumerate(key) if is_array(k)]
    if len(key) > a.ndim:
        return None
    key = key + (slice(None),) * (a.ndim - len(key))
    arrays = [key[p] for p in pos]
    at, nb = pos[0], arrays[0].ndim
    sources: list = []
    shape: list[int] = []
    for d, k in enumerate(key):
        if d in pos:
            sources.append(("index", d - at))
            continue
        along = np.arange(a.shape[d], dtype=np.intp)[k]
        out_axis = len(shape) if d < at else len(shape) + nb
        sources.append(("axis", out_axis, along))
        shape.append(along.size)
    shape[at:at] = arrays[0].shape
    return IndexLayout.of(a, arrays, at, sources, tuple(shape))


def along_axis_layout(a, indices, axis: int) -> IndexLayout | None:
    """`take_along_axis(a, indices, axis)` where the indices have the result's shape (an
    argsort's output): each element's other coordinates are its own."""
    if not (is_array(indices) and indices.ndim == a.ndim and a.ndim > 0
            and -a.ndim <= axis < a.ndim):
        return None
    axis %= a.ndim
    sources: list = []
    for d, (n, m) in enumerate(zip(a.shape, indices.shape)):
        if d == axis:
            sources.append(("index", 0))
        elif n == m or n == 1:
            sources.append(("axis", d, np.arange(m, dtype=np.intp) * (n != 1)))
        else:
            return None
    return IndexLayout.of(a, [indices], 0, sources, indices.shape)


def _check_bounds(rt, axes, sizes, stores, rects, shape) -> None:
    """NumPy's IndexError for the first index out of bounds (first axis, then C order), the
    same on every rank: each rank checks its own tiles, and they agree on the first."""
    first = None
    for axis, store, n in zip(axes, stores, sizes):
        for rect in rects:
            i = store.local(rect)
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
