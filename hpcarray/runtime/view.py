"""Views: how an array's index space maps onto its store's.

A view maps each of its dimensions either onto one store dimension with a step (slices,
negative steps, transposes) or onto nothing (new axes and broadcast dimensions, step 0);
store dimensions no view dimension maps onto are fixed at `start` (integer indexing).
This covers NumPy's basic indexing, transposition and broadcasting exactly, so the store
rectangle any view rectangle touches is known exactly: that is what dependence analysis
and halo exchange work on. Other views (reshape of a view, `.real`) become alias stores.
"""

from __future__ import annotations

import operator

import numpy as np

from hpcarray.runtime.partition import Rect, Tiling
from hpcarray.runtime.placed import Placed, window
from hpcarray.runtime.store import Store

# Per view dimension: (store dimension or -1, step).
Dims = tuple[tuple[int, int], ...]


_WHOLE_DIMS: dict[int, Dims] = {}
_LAUNCH_TILES: dict[tuple, list] = {}  # (tiling, start, shape, dims) -> launch tiles


class View:
    __slots__ = ("store", "start", "shape", "dims")

    def __init__(self, store: Store, start: tuple[int, ...], shape: tuple[int, ...], dims: Dims):
        self.store = store
        self.start = start
        self.shape = shape
        self.dims = dims

    @classmethod
    def whole(cls, store: Store) -> View:
        nd = len(store.shape)
        dims = _WHOLE_DIMS.get(nd)
        if dims is None:  # made once per ndim: every small result comes through here
            dims = _WHOLE_DIMS[nd] = tuple((d, 1) for d in range(nd))
        return cls(store, (0,) * nd, store.shape, dims)

    @property
    def is_whole(self) -> bool:
        """The view is its store, index for index."""
        return self.shape == self.store.shape and all(
            d == j and s == 1 for j, (d, s) in enumerate(self.dims)
        ) and not any(self.start)

    def same_mapping(self, other: View) -> bool:
        return (self.store is other.store and self.start == other.start
                and self.shape == other.shape and self.dims == other.dims)

    # -- numpy access ---------------------------------------------------------------

    def to_numpy(self):
        """The view as a strided NumPy view of the store's local buffer; where this rank
        holds only a block of the store, a `Placed` array (tiles reached by their global
        indices) instead."""
        store = self.store
        if store.blocked:
            return Placed(store.block, self.start, self.shape, self.dims, store.dtype)
        return window(store.block, self.start, self.shape, self.dims, None)

    def window(self, rect: Rect | None) -> np.ndarray:
        """The view rectangle `rect` (None: all of it) as a strided NumPy view of this
        rank's block of the store (which must hold it)."""
        return window(self.store.block, self.start, self.shape, self.dims, rect)

    # -- rectangles -------------------------------------------------------------------

    def image(self, rect: Rect) -> Rect:
        """The store rectangle that the view rectangle `rect` touches."""
        out = [(s, s + 1) for s in self.start]
        for (lo, hi), (d, s) in zip(rect, self.dims):
            if d < 0:
                continue
            a = self.start[d] + lo * s
            b = self.start[d] + (hi - 1) * s
            out[d] = (a, b + 1) if s > 0 else (b, a + 1)
        return tuple(out)

    def launch_tiles(self) -> list[tuple[Rect, int]]:
        """Rectangles of this view's index space, one per store tile it covers, with the
        tile's owner: tasks writing this view are launched over these. (Not to be
        changed: a loop's views of the same few geometries share one list.)"""
        tiling: Tiling = self.store.tiling
        if len(tiling) == 1:
            return [(tuple((0, n) for n in self.shape), tiling.owners[0])]
        key = (tiling, self.start, self.shape, self.dims)
        tiles = _LAUNCH_TILES.get(key)
        if tiles is None:
            if len(_LAUNCH_TILES) > 4096:  # (a program of ever new geometries)
                _LAUNCH_TILES.clear()
            tiles = _LAUNCH_TILES[key] = self._launch_tiles(tiling)
        return tiles

    def _launch_tiles(self, tiling: Tiling) -> list[tuple[Rect, int]]:
        store_dim_of = {d: j for j, (d, _) in enumerate(self.dims) if d >= 0}
        choice: list[list[tuple[int, tuple[int, int] | None]]] = []
        for d, edges in enumerate(tiling.edges):
            options: list[tuple[int, tuple[int, int] | None]] = []
            j = store_dim_of.get(d)
            for t in range(len(edges) - 1):
                lo, hi = edges[t], edges[t + 1]
                if j is None:
                    if lo <= self.start[d] < hi:
                        options.append((t, None))
                    continue
                iv = _preimage(self.start[d], self.dims[j][1], self.shape[j], lo, hi)
                if iv is not None:
                    options.append((t, iv))
            choice.append(options)
        counts = tiling.counts
        out = []
        for combo in _product(choice):
            flat = 0
            rect = [(0, n) for n in self.shape]
            for d, (t, iv) in enumerate(combo):
                flat = flat * counts[d] + t
                if iv is not None:
                    rect[store_dim_of[d]] = iv
            out.append((tuple(rect), tiling.owners[flat]))
        if not out:  # a zero-size view still gets one (empty) task
            out.append((tuple((0, n) for n in self.shape), tiling.owners[0]))
        return out

    # -- derived views --------------------------------------------------------------

    def index(self, key: tuple) -> View:
        """Basic indexing; `key` is already validated by NumPy and holds only ints,
        slices, None and at most one Ellipsis."""
        nd = len(self.shape)
        n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
        items: list = []
        for k in key:
            if k is Ellipsis:
                items.extend([slice(None)] * (nd - n_real))
            else:
                items.append(k)
        start = list(self.start)
        shape: list[int] = []
        dims: list[tuple[int, int]] = []
        j = 0
        for k in items:
            if k is None:
                shape.append(1)
                dims.append((-1, 0))
                continue
            d, s = self.dims[j]
            n = self.shape[j]
            j += 1
            if isinstance(k, slice):
                b, e, st = k.indices(n)
                length = len(range(b, e, st))
                if d >= 0 and length:
                    start[d] += b * s
                shape.append(length)
                dims.append((d, s * st) if d >= 0 else (-1, 0))
            else:
                i = operator.index(k)
                if i < 0:
                    i += n
                if d >= 0:
                    start[d] += i * s
        shape.extend(self.shape[j:])
        dims.extend(self.dims[j:])
        return View(self.store, tuple(start), tuple(shape), tuple(dims))

    def transpose(self, axes: tuple[int, ...]) -> View:
        return View(self.store, self.start, tuple(self.shape[a] for a in axes),
                    tuple(self.dims[a] for a in axes))

    def broadcast_to(self, shape: tuple[int, ...]) -> View:
        """Broadcast (shape already validated); broadcast dimensions get step 0."""
        lead = len(shape) - len(self.shape)
        dims = [(-1, 0)] * lead
        for n_old, n_new, dm in zip(self.shape, shape[lead:], self.dims):
            dims.append(dm if n_old == n_new else (-1, 0))
        return View(self.store, self.start, tuple(shape), tuple(dims))

    def drop_unit_axes(self, axes: tuple[int, ...]) -> View:
        keep = [j for j in range(len(self.shape)) if j not in axes]
        return View(self.store, self.start, tuple(self.shape[j] for j in keep),
                    tuple(self.dims[j] for j in keep))

    def insert_unit_axes(self, axes: tuple[int, ...]) -> View:
        """New axes of extent 1 at the given positions of the result."""
        shape, dims, src = [], [], 0
        for j in range(len(self.shape) + len(axes)):
            if j in axes:
                shape.append(1)
                dims.append((-1, 0))
            else:
                shape.append(self.shape[src])
                dims.append(self.dims[src])
                src += 1
        return View(self.store, self.start, tuple(shape), tuple(dims))


def _preimage(start: int, step: int, n: int, lo: int, hi: int) -> tuple[int, int] | None:
    """Indices i in [0, n) with lo <= start + i*step < hi, as an interval."""
    if step > 0:
        a = max(0, -((start - lo) // step))
        b = min(n, -((start - hi) // step))
    elif step < 0:
        m = -step
        a = max(0, (start - hi) // m + 1)
        b = min(n, (start - lo) // m + 1)
    else:
        return (0, n) if lo <= start < hi else None
    return (a, b) if a < b else None


def _product(choice):
    out = [()]
    for options in choice:
        out = [c + (o,) for c in out for o in options]
    return out
