"""This rank's tiles as pieces of a file laid out in C order: what it writes and what it
reads, never more. Tile data is reached only through the runtime's per-rank access
(`Runtime.own_rects`, `Store.local`, `Runtime.filled_locally`)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from hpcarray.runtime import get_runtime
from hpcarray.runtime.partition import full_rect


def source_store(a):
    """The store holding `a`'s values in C order, index for index (a copy when `a` is a
    view), with the work pending on it done and the ranks agreed that no task failed."""
    v = a._v
    if not (v.is_whole and not v.store.is_alias):
        a = a.copy()
        v = a._v
    rt = get_runtime()
    rt.settle(v.store)
    return v.store, a  # the array keeps the store (and its buffer) alive


def writer_rects(store) -> list:
    """The rectangles this rank writes: its own tiles; of a store every rank holds whole
    (replicated), rank 0 writes all and the others nothing."""
    rt = get_runtime()
    rects = rt.own_rects(store)
    if rt.nranks > 1 and rects == [full_rect(store.shape)]:
        return rects if rt.rank == 0 else []
    return rects


def runs(rect, shape: tuple[int, ...]):
    """(first element in C order, local index) for each C-order contiguous run of `rect`
    (global coordinates) in an array of `shape`: the index picks the run out of
    `store.local(rect)`. Trailing dimensions the rectangle spans whole join one run."""
    nd = len(shape)
    if nd == 0:
        yield 0, ...  # (a 0-d array's `[()]` would be a scalar, not a view)
        return
    if any(lo >= hi for lo, hi in rect):
        return
    k = nd - 1
    while k > 0 and rect[k] == (0, shape[k]):
        k -= 1
    inner = math.prod(shape[k + 1:])
    strides = [math.prod(shape[d + 1:k + 1]) for d in range(k + 1)]
    lo_k = rect[k][0]
    for prefix in itertools.product(*(range(lo, hi) for lo, hi in rect[:k])):
        first = sum(i * s for i, s in zip(prefix, strides)) + lo_k * strides[k]
        yield first * inner, tuple(i - lo for i, (lo, _) in zip(prefix, rect))


def pieces(store, rects, shape: tuple[int, ...] | None = None) -> list:
    """(byte offset in the C-order data, NumPy view) for every run of `rects`, in file
    order. `shape` is the layout of the data in the file (the store's own by default)."""
    shape = store.shape if shape is None else shape
    itemsize = store.dtype.itemsize
    out = []
    for rect in rects:
        local = store.local(rect)
        for first, index in runs(rect, shape):
            run = local[index]
            if run.size:
                out.append((first * itemsize, run))
    out.sort(key=lambda p: p[0])
    return out


def new_store(shape: tuple[int, ...], dtype: np.dtype):
    """A fresh store to fill with a file's contents: this rank fills `reader_rects`."""
    return get_runtime().new_store(tuple(shape), dtype)


def filled(store):
    """The array over `store`, once this rank has filled its own tiles."""
    from hpcarray._api.convert import wrap
    from hpcarray.runtime.view import View

    get_runtime().filled_locally(store)
    return wrap(View.whole(store), store.buffer)


def reader_rects(store) -> list:
    return get_runtime().own_rects(store)


def as_bytes(run: np.ndarray) -> memoryview:
    """A run as a flat byte buffer (runs of the stores are C-contiguous views)."""
    return memoryview(np.ascontiguousarray(run).reshape(-1).view(np.uint8))
