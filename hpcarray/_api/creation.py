"""Array creation: from data, from shape and value, ranges, grids, matrices.

Arrays of dtypes hpcarray does not hold (strings, datetimes, objects) are NumPy's own,
made by NumPy with the fallback's warning (numpy_if_not_held)."""

from __future__ import annotations

import builtins

import numpy as np

from hpcarray._api.convert import asarray as _asarray
from hpcarray._api.convert import from_numpy, is_array, new_array, to_numpy
from hpcarray._dtypes import check_dtype
from hpcarray._fallback import numpy_if_not_held
from hpcarray._replicated import replicated_across_ranks


def _shape(shape) -> tuple[int, ...]:
    import operator

    if type(shape) is tuple and all(type(n) is int and n >= 0 for n in shape):
        return shape
    try:
        shape = (operator.index(shape),)
    except TypeError:
        shape = tuple(operator.index(n) for n in shape)
    for n in shape:
        if n < 0:
            raise ValueError("negative dimensions are not allowed")
    return shape


_FLOAT64 = np.dtype(np.float64)


def _dtype(dtype, default=np.float64) -> np.dtype:
    if dtype is float:
        return _FLOAT64
    return check_dtype(np.dtype(default if dtype is None else dtype))


def _no_copy_error():
    return ValueError(
        "Unable to avoid copy while creating an array as requested.\nIf using "
        "`np.array(obj, copy=False)` replace it with `np.asarray(obj)` to allow a copy when "
        "needed (no behavior change in NumPy 1.x).\nFor more details, see "
        "https://numpy.org/devdocs/numpy_2_0_migration_guide.html"
        "#adapting-to-changes-in-the-copy-keyword.")


@numpy_if_not_held
def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    if is_array(object) and ndmin <= object.ndim:
        if dtype is None or np.dtype(dtype) == object.dtype:
            return object.copy() if copy else object
        if copy is False:
            raise _no_copy_error()
        return object.astype(dtype)
    if copy is False and not isinstance(object, np.ndarray) and not is_array(object):
        raise _no_copy_error()
    a = _asarray(object, dtype=dtype, copy=copy)
    if ndmin > a.ndim:
        a = a.reshape((1,) * (ndmin - a.ndim) + a.shape)
    return a


@numpy_if_not_held
def asarray(a, dtype=None, order=None, *, copy=None, like=None, device=None):
    if copy is False and not is_array(a) and not isinstance(a, np.ndarray):
        raise _no_copy_error()
    if copy is False and is_array(a) and dtype is not None and np.dtype(dtype) != a.dtype:
        raise _no_copy_error()
    return _asarray(a, dtype=dtype, copy=copy)


@numpy_if_not_held
def asanyarray(a, dtype=None, order=None, *, like=None):
    return _asarray(a, dtype=dtype)


@numpy_if_not_held
def ascontiguousarray(a, dtype=None, *, like=None):
    return _asarray(a, dtype=dtype)


def _new(shape, dtype, zero=False):
    """A fresh array; shape and dtype already checked."""
    return new_array(shape, dtype, zero)


@numpy_if_not_held
def empty(shape, dtype=float, order="C", *, like=None, device=None):
    return _new(_shape(shape), _dtype(dtype))


@numpy_if_not_held
def zeros(shape, dtype=float, order="C", *, like=None, device=None):
    return _new(_shape(shape), _dtype(dtype), zero=True)


@numpy_if_not_held
def full(shape, fill_value, dtype=None, order="C", *, like=None, device=None):
    shape = _shape(shape)
    if dtype is None:
        dtype = fill_value.dtype if is_array(fill_value) else np.asarray(fill_value).dtype
    return _filled(shape, _dtype(dtype), fill_value)


def _filled(shape, dtype, fill_value):
    """A new array filled as NumPy's copyto(..., casting="unsafe") fills it."""
    from hpcarray._api.manipulation import assign

    out = new_array(shape, dtype)
    if is_array(fill_value):
        value = fill_value.astype(dtype) if fill_value.dtype != dtype else fill_value
    else:
        value = np.empty(np.shape(fill_value), dtype)
        np.copyto(value, fill_value, casting="unsafe")
        if value.ndim == 0:
            value = value[()]
    assign(out, value)
    return out


@numpy_if_not_held
def ones(shape, dtype=None, order="C", *, like=None, device=None):
    return full(shape, 1, dtype=_dtype(dtype))


def _like(a, dtype, shape):
    a = _asarray(a) if not is_array(a) and not isinstance(a, np.ndarray) else a
    return (
        _dtype(dtype, a.dtype),
        _shape(a.shape if shape is None else shape),
    )


@numpy_if_not_held
def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(prototype, dtype, shape)
    return new_array(sh, dt)


@numpy_if_not_held
def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(a, dtype, shape)
    return new_array(sh, dt, zero=True)


@numpy_if_not_held
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(a, dtype, shape)
    return full(sh, 1, dt)


@numpy_if_not_held
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dt, sh = _like(a, dtype, shape)
    return _filled(sh, dt, fill_value)


def _generated(name, np_result):
    """Small generators (ranges, grids): NumPy computes them; the result becomes tiles."""
    return from_numpy(np_result, copy=False)


@numpy_if_not_held
def arange(*args, **kwargs):
    """numpy.arange(start_or_stop, /, stop=None, step=1, *, dtype=None, ...)"""
    args = tuple(to_numpy(v)[()] if is_array(v) and v.ndim == 0 else v for v in args)
    kwargs = {k: (to_numpy(v)[()] if is_array(v) and v.ndim == 0 else v)
              for k, v in kwargs.items() if k not in ("like", "device")}
    if "dtype" in kwargs:
        kwargs["dtype"] = _dtype(kwargs["dtype"]) if kwargs["dtype"] is not None else None
    return _generated("arange", np.arange(*_np_all(args), **_np_all(kwargs)))


def _np_all(value):
    from hpcarray._api.convert import numpy_args

    return numpy_args(value)


@numpy_if_not_held
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    res = np.linspace(_np(start), _np(stop), num, endpoint, retstep, dtype, axis)
    if retstep:
        return _generated("linspace", res[0]), res[1]
    return _generated("linspace", res)


@numpy_if_not_held
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return _generated("logspace", np.logspace(_np(start), _np(stop), num, endpoint, _np(base),
                                              dtype, axis))


@numpy_if_not_held
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return _generated("geomspace", np.geomspace(_np(start), _np(stop), num, endpoint, dtype,
                                                axis))


def _np(v):
    return to_numpy(v) if is_array(v) else v


@numpy_if_not_held
def eye(N, M=None, k=0, dtype=float, order="C", *, like=None, device=None):
    return _generated("eye", np.eye(N, M, k, dtype))


@numpy_if_not_held
def identity(n, dtype=None, *, like=None):
    return eye(n, dtype=float if dtype is None else dtype)


@numpy_if_not_held
@replicated_across_ranks
def diag(v, k=0):
    return _generated("diag", np.diag(to_numpy(_asarray(v)), k))


@numpy_if_not_held
@replicated_across_ranks
def diagflat(v, k=0):
    return _generated("diagflat", np.diagflat(to_numpy(_asarray(v)), k))


@numpy_if_not_held
def tri(N, M=None, k=0, dtype=float, *, like=None):
    return _generated("tri", np.tri(N, M, k, dtype))


def _tri_mask(x, k, lower):
    from hpcarray._api.manipulation import where

    rows, cols = x.shape[-2], x.shape[-1]
    mask = np.tri(rows, cols, k if lower else k - 1, dtype=bool)
    if not lower:
        mask = ~mask
    return where(from_numpy(mask), x, np.zeros((), x.dtype))


@numpy_if_not_held
def tril(m, k=0):
    x = _asarray(m)
    if x.ndim < 2:
        return _generated("tril", np.tril(to_numpy(x), k))
    return _tri_mask(x, k, True)


@numpy_if_not_held
def triu(m, k=0):
    x = _asarray(m)
    if x.ndim < 2:
        return _generated("triu", np.triu(to_numpy(x), k))
    return _tri_mask(x, k, False)


@numpy_if_not_held
@replicated_across_ranks
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    from hpcarray._api.manipulation import broadcast_to

    grids = np.meshgrid(*[to_numpy(_asarray(x)) for x in xi], copy=False, sparse=True,
                        indexing=indexing)
    outs = [from_numpy(g) for g in grids]
    if sparse:
        return tuple(outs) if copy else list(outs)  # NumPy's own quirk
    shape = np.broadcast_shapes(*[g.shape for g in grids])
    full_grids = [broadcast_to(o, shape) for o in outs]
    return tuple(g.copy() for g in full_grids) if copy else tuple(full_grids)


@numpy_if_not_held
def indices(dimensions, dtype=int, sparse=False):
    res = np.indices(dimensions, dtype, sparse)
    if sparse:
        return tuple(from_numpy(r) for r in res)
    return _generated("indices", res)


@numpy_if_not_held
def fromfunction(function, shape, *, dtype=float, like=None, **kwargs):
    coords = indices(shape, dtype=dtype)
    return function(*[coords[i] for i in builtins.range(len(shape))], **kwargs)


@numpy_if_not_held
def copy(a, order="K", subok=False):
    from hpcarray._api.manipulation import copy as _copy

    return _copy(_asarray(a))

