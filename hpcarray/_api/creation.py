"""Array creation: from data, from shape and value, ranges, grids, matrices."""

from __future__ import annotations

import builtins

import numpy as np

from hpcarray._api.convert import asarray as _asarray
from hpcarray._api.convert import from_numpy, is_array, new_array, to_numpy
from hpcarray._dtypes import check_dtype


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(n) for n in shape)
    for n in shape:
        if n < 0:
            raise ValueError("negative dimensions are not allowed")
    return shape


def _dtype(dtype, default=np.float64) -> np.dtype:
    return check_dtype(np.dtype(default if dtype is None else dtype))


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    if is_array(object) and ndmin <= object.ndim:
        if dtype is None or np.dtype(dtype) == object.dtype:
            return object.copy() if copy else object
        return object.astype(dtype)
    a = _asarray(object, dtype=dtype, copy=copy)
    if ndmin > a.ndim:
        a = a.reshape((1,) * (ndmin - a.ndim) + a.shape)
    return a


def asarray(a, dtype=None, order=None, *, copy=None, like=None, device=None):
    return _asarray(a, dtype=dtype, copy=copy)


def asanyarray(a, dtype=None, order=None, *, like=None):
    return _asarray(a, dtype=dtype)


def ascontiguousarray(a, dtype=None, *, like=None):
    return _asarray(a, dtype=dtype)


def empty(shape, dtype=float, order="C", *, like=None, device=None):
    return new_array(_shape(shape), _dtype(dtype))


def zeros(shape, dtype=float, order="C", *, like=None, device=None):
    return new_array(_shape(shape), _dtype(dtype), zero=True)


def full(shape, fill_value, dtype=None, order="C", *, like=None, device=None):
    if dtype is None:
        dtype = fill_value.dtype if is_array(fill_value) else np.array(fill_value).dtype
    out = new_array(_shape(shape), _dtype(dtype))
    from hpcarray._api.manipulation import assign

    assign(out, fill_value)
    return out


def ones(shape, dtype=None, order="C", *, like=None, device=None):
    return full(shape, 1, dtype=_dtype(dtype))


def _like(a, dtype, shape):
    a = _asarray(a) if not is_array(a) and not isinstance(a, np.ndarray) else a
    return (
        _dtype(dtype, a.dtype),
        _shape(a.shape if shape is None else shape),
    )


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(prototype, dtype, shape)
    return new_array(sh, dt)


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(a, dtype, shape)
    return new_array(sh, dt, zero=True)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(a, dtype, shape)
    return full(sh, 1, dt)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(a, dtype, shape)
    return full(sh, fill_value, dt)


def _generated(name, np_result):
    """Small generators (ranges, grids): NumPy computes them; the result becomes tiles."""
    return from_numpy(np_result, copy=False)


def arange(start, stop=None, step=None, dtype=None, *, like=None, device=None):
    start, stop, step = (to_numpy(v)[()] if is_array(v) else v for v in (start, stop, step))
    return _generated("arange", np.arange(start, stop, step, dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    res = np.linspace(_np(start), _np(stop), num, endpoint, retstep, dtype, axis)
    if retstep:
        return _generated("linspace", res[0]), res[1]
    return _generated("linspace", res)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return _generated("logspace", np.logspace(_np(start), _np(stop), num, endpoint, _np(base),
                                              dtype, axis))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return _generated("geomspace", np.geomspace(_np(start), _np(stop), num, endpoint, dtype,
                                                axis))


def _np(v):
    return to_numpy(v) if is_array(v) else v


def eye(N, M=None, k=0, dtype=float, order="C", *, like=None, device=None):
    return _generated("eye", np.eye(N, M, k, dtype))


def identity(n, dtype=None, *, like=None):
    return eye(n, dtype=float if dtype is None else dtype)


def diag(v, k=0):
    return _generated("diag", np.diag(to_numpy(_asarray(v)), k))


def diagflat(v, k=0):
    return _generated("diagflat", np.diagflat(to_numpy(_asarray(v)), k))


def tri(N, M=None, k=0, dtype=float, *, like=None):
    return _generated("tri", np.tri(N, M, k, dtype))


def _tri_mask(x, k, lower):
    from hpcarray._api.manipulation import where

    rows, cols = x.shape[-2], x.shape[-1]
    mask = np.tri(rows, cols, k if lower else k - 1, dtype=bool)
    if not lower:
        mask = ~mask
    return where(from_numpy(mask), x, np.zeros((), x.dtype))


def tril(m, k=0):
    x = _asarray(m)
    if x.ndim < 2:
        return _generated("tril", np.tril(to_numpy(x), k))
    return _tri_mask(x, k, True)


def triu(m, k=0):
    x = _asarray(m)
    if x.ndim < 2:
        return _generated("triu", np.triu(to_numpy(x), k))
    return _tri_mask(x, k, False)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    from hpcarray._api.manipulation import broadcast_to

    grids = np.meshgrid(*[to_numpy(_asarray(x)) for x in xi], copy=False, sparse=True,
                        indexing=indexing)
    outs = [from_numpy(g) for g in grids]
    if sparse:
        return tuple(outs) if not copy else tuple(o for o in outs)
    shape = np.broadcast_shapes(*[g.shape for g in grids])
    full_grids = [broadcast_to(o, shape) for o in outs]
    return tuple(g.copy() for g in full_grids) if copy else tuple(full_grids)


def indices(dimensions, dtype=int, sparse=False):
    res = np.indices(dimensions, dtype, sparse)
    if sparse:
        return tuple(from_numpy(r) for r in res)
    return _generated("indices", res)


def fromfunction(function, shape, *, dtype=float, like=None, **kwargs):
    coords = indices(shape, dtype=dtype)
    return function(*[coords[i] for i in builtins.range(len(shape))], **kwargs)


def copy(a, order="K", subok=False):
    from hpcarray._api.manipulation import copy as _copy

    return _copy(_asarray(a))

