"""Sorting (NumPy's "Sorting, searching, and counting" section): sort and argsort.

Lanes along the sorted axis are independent, so the work runs tile by tile wherever a
tile holds whole lanes. Where the usual tiling splits the axis, the input is first moved
into tiles that do not (one exchange), sorted there and moved back. A 1-D array spread
over ranks is sample-sorted (runtime/sample_sort.py), its argsort too; only an argsort
that is not stable, of an array with equal values, then runs as one task on gathered
data, since the order of equal values must be NumPy's own.
"""

from __future__ import annotations

import numpy as np

from hpcarray._api import ops
from hpcarray._api.convert import asarray, new_array, require_writeable
from hpcarray._fallback import call_numpy
from hpcarray.runtime import get_runtime
from hpcarray.runtime.algorithms import sample_sort as _sample_sort


def _sort_kwargs(kind, stable) -> dict:
    kw = {"kind": kind}
    if stable is not None:
        kw["stable"] = stable
    return kw


def _prepare(x, axis, kw):
    """Flatten for axis=None, and raise NumPy's errors (axis, kind) on a tiny probe."""
    if axis is None:
        x, axis = x.ravel(), 0
    np.sort(np.zeros((1,) * x.ndim, x.dtype), axis=axis, **kw)
    return x, axis % x.ndim


def _along_axis(name: str, fn, res, x, axis: int, sample_sort: bool = False) -> None:
    """Run `fn(out_tiles, in_tiles)` (each call on whole lanes along `axis`)."""
    rt = get_runtime()
    tiling = res._v.store.tiling
    if rt.is_small(res.size) or tiling.counts[axis] == 1:
        ops.elementwise(name, fn, [res], [x], copy_aliased=lambda a: a.copy())
    elif res.ndim > 1:
        lanes = new_array(res.shape, res.dtype, tiling=rt.tiling_along(res.shape, axis))
        ops.elementwise(name, fn, [lanes], [x])
        ops.elementwise("copy", _copy, [res], [lanes])
    elif not (sample_sort and _sample_sort.applies(rt, res._v.store)
              and _sorted_across_ranks(rt, name, fn, res, x)):
        ops.whole(name, fn, [res], [x])


def _sorted_across_ranks(rt, name: str, fn, res, x) -> bool:
    """Sample-sort 1-D x (or its indices) into res; False where NumPy's own order of
    equal values is needed (argsort, not stable, with ties): nothing written then."""
    src = x if x._v.is_whole and not x._v.store.is_alias else x.copy()
    op = rt.operation(name, [src._v.store], [res._v.store])
    with rt.collective("sample sort", op):
        return _sample_sort.sample_sort(rt, src._v.store, res._v.store, fn.kind,
                                        indices=fn.indices, stable=fn.stable)


def _copy(outs, ins) -> None:
    np.copyto(outs[0], ins[0])


class _Sorted:
    """Kernel: the lanes of the input, sorted (or their sorting indices)."""

    def __init__(self, axis: int, kw: dict, indices: bool):
        self.axis, self.kw, self.indices = axis, kw, indices
        self.kind = kw["kind"]
        # Equal values keep their order (NumPy's stable sorts).
        self.stable = bool(kw.get("stable")) or self.kind in ("stable", "mergesort")

    def __call__(self, outs, ins) -> None:
        o, i = outs[0], ins[0]
        if self.indices:
            o[...] = np.argsort(i, axis=self.axis, **self.kw)
            return
        np.copyto(o, i)
        o.sort(axis=self.axis, **self.kw)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        return call_numpy(np.sort, "sort", (a,), {"axis": axis, "kind": kind, "order": order,
                                                  "stable": stable})
    kw = _sort_kwargs(kind, stable)
    x, axis = _prepare(asarray(a), axis, kw)
    res = new_array(x.shape, x.dtype)
    _along_axis("sort", _Sorted(axis, kw, False), res, x, axis, sample_sort=True)
    return res


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        return call_numpy(np.argsort, "argsort", (a,), {"axis": axis, "kind": kind,
                                                        "order": order, "stable": stable})
    kw = _sort_kwargs(kind, stable)
    x, axis = _prepare(asarray(a), axis, kw)
    res = new_array(x.shape, np.intp)
    _along_axis("argsort", _Sorted(axis, kw, True), res, x, axis, sample_sort=True)
    return res


def sort_in_place(a, axis=-1, kind=None, order=None, *, stable=None) -> None:
    """ndarray.sort: NumPy's errors (no axis=None), then the sorted lanes copied back."""
    kw = _sort_kwargs(kind, stable)
    np.zeros((1,) * a.ndim, a.dtype).sort(axis=axis, order=order, **kw)
    require_writeable(a, "sort array is read-only")
    if order is not None:
        from hpcarray._fallback import inplace_numpy

        inplace_numpy(a, lambda arr: arr.sort(axis=axis, order=order, **kw))
        return
    ops.elementwise("copy", _copy, [a], [sort(a, axis, **kw)])
