"""Reductions (sum, prod, min, max, argmin, mean, var, ...), scans and counting.

`ufunc_reduce` is the template: NumPy validates the call on a small stand-in (axis,
dtype, identity and `where` errors come out exactly as NumPy's), then each input tile is
reduced to a partial and the partials of one output tile are combined in tile order.
"""

from __future__ import annotations

import builtins

import numpy as np

from hpcarray._api.convert import asarray, is_array, new_array, operand, to_numpy, wrap
from hpcarray.runtime import ops

_NOVALUE = np._NoValue


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, tuple):
        axis = (axis,)
    out = []
    for a in axis:
        a = _norm(a, ndim)
        if a in out:
            raise ValueError("duplicate value in 'axis'")
        out.append(a)
    return tuple(sorted(out))


def _norm(a, ndim: int) -> int:
    import operator

    a = operator.index(a)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim if ndim else a


def _probe_shape(shape, axes):
    return tuple((1 if n else 0) if d in axes else builtins.min(n, 1) for d, n in enumerate(shape))


def _result(out_arr, out):
    if out is not None:
        return out
    if out_arr.ndim == 0:
        return to_numpy(out_arr)[()]
    return out_arr


def _allocate(x, axes, keepdims, dtype, out):
    """The output array and its keepdims-shaped view."""
    shape_kd = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    shape_out = shape_kd if keepdims else tuple(n for d, n in enumerate(x.shape) if d not in axes)
    if out is not None:
        if not is_array(out):
            raise TypeError("output must be an array")
        if out.shape != shape_out:
            raise ValueError(
                f"output parameter for reduction operation has the wrong shape: found "
                f"{out.shape} but expected {shape_out}"
            )
        target = out
    else:
        target = new_array(shape_out, dtype)
    if keepdims:
        return target, target
    kd = wrap(target._v.insert_unit_axes(axes), target._np.reshape(shape_kd))
    return target, kd


# Reductions whose result does not depend on how the input is grouped (up to rounding):
# these reduce per tile and combine the partials; the others run as one ordered task.
_ASSOCIATIVE = frozenset([
    np.add, np.multiply, np.maximum, np.minimum, np.fmax, np.fmin, np.logical_and,
    np.logical_or, np.logical_xor, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.gcd,
    np.lcm,
])


def ufunc_reduce(uf, a, axis=0, dtype=None, out=None, keepdims=False, initial=_NOVALUE,
                 where=True):
    x = asarray(a)
    if out is not None and isinstance(out, tuple):
        out = out[0]
    probe_kwargs = {"axis": axis, "dtype": dtype, "keepdims": keepdims}
    if initial is not _NOVALUE:
        probe_kwargs["initial"] = initial
    where_arr = None
    if where is not True:
        where_arr = operand(where)
        probe_kwargs["where"] = np.ones(_probe_shape(x.shape, ()), bool) if is_array(where_arr) \
            else where_arr
    probe = uf.reduce(np.zeros(_probe_shape(x.shape, normalize_axes(axis, x.ndim)), x.dtype),
                      **probe_kwargs)
    res_dtype = np.asarray(probe).dtype if out is None else out.dtype
    axes = normalize_axes(axis, x.ndim)
    target, kd = _allocate(x, axes, keepdims, res_dtype, out)
    red_kwargs = {"dtype": dtype if dtype is not None else res_dtype}
    if initial is not _NOVALUE:
        red_kwargs["initial"] = initial
    ins = []
    if where_arr is not None and is_array(where_arr):
        ins.append(where_arr)
    elif where_arr is not None:
        red_kwargs["where"] = where_arr

    if x.size == 0:
        # NumPy's identity / initial for empty reductions.
        res = uf.reduce(np.zeros(x.shape, x.dtype), axis=axes, keepdims=True, **red_kwargs)
        from hpcarray._api.manipulation import assign

        assign(kd, res)
        return _result(target, out)
    if uf not in _ASSOCIATIVE:
        # An order-dependent reduction (subtract, divide, arctan2, ...): one task, in order.
        def whole_kernel(o, i):
            kw = dict(red_kwargs)
            if len(i) > 1:
                kw["where"] = i[1]
            uf.reduce(i[0], axis=axes, keepdims=True, out=o[0], **kw)

        ops.whole(f"{uf.__name__}.reduce", whole_kernel, [kd], [x] + ins)
        return _result(target, out)
    # Partials never apply `initial` unless the ufunc has no identity (then it is
    # idempotent: max/min); the combine applies it once.
    part_kwargs = dict(red_kwargs)
    if uf.identity is not None:
        part_kwargs.pop("initial", None)

    def partial(tile, *w):
        if w:
            return uf.reduce(tile, axis=axes, keepdims=True, where=w[0], **part_kwargs)
        return uf.reduce(tile, axis=axes, keepdims=True, **part_kwargs)

    def combine(parts, o):
        if len(parts) == 1 and "initial" not in red_kwargs:
            np.copyto(o, parts[0], casting="unsafe")
        else:
            uf.reduce(np.stack(parts), axis=0, out=o, **red_kwargs)

    ops.reduction(f"{uf.__name__}.reduce", x, ins, axes, kd, partial, combine)
    return _result(target, out)


def ufunc_accumulate(uf, a, axis=0, dtype=None, out=None):
    x = asarray(a)
    probe = uf.accumulate(np.zeros(_probe_shape(x.shape, ()), x.dtype), axis=axis, dtype=dtype)
    res = out if out is not None else new_array(x.shape, probe.dtype)
    kwargs = {"axis": axis}
    if dtype is not None:
        kwargs["dtype"] = dtype
    ops.whole(f"{uf.__name__}.accumulate",
              lambda o, i: uf.accumulate(i[0], out=o[0], **kwargs), [res], [x])
    return res


# -- the reduction functions -------------------------------------------------------------


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return ufunc_reduce(np.add, a, axis, dtype, out, keepdims, initial, where)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return ufunc_reduce(np.multiply, a, axis, dtype, out, keepdims, initial, where)


def max(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return ufunc_reduce(np.maximum, a, axis, None, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return ufunc_reduce(np.minimum, a, axis, None, out, keepdims, initial, where)


amax, amin = max, min


def any(a, axis=None, out=None, keepdims=False, *, where=True):
    x = asarray(a)
    return ufunc_reduce(np.logical_or, x, axis, bool, out, keepdims, _NOVALUE, where)


def all(a, axis=None, out=None, keepdims=False, *, where=True):
    x = asarray(a)
    return ufunc_reduce(np.logical_and, x, axis, bool, out, keepdims, _NOVALUE, where)


def count_nonzero(a, axis=None, *, keepdims=False):
    x = asarray(a)
    nz = x != 0 if x.ndim else np.asarray(to_numpy(x) != 0)
    if axis is None and not keepdims:
        return int(sum(asarray(nz), dtype=np.intp))
    return sum(asarray(nz), axis=axis, dtype=np.intp, keepdims=keepdims)


def _count(x, axes) -> int:
    n = 1
    for d in axes:
        n *= x.shape[d]
    return n


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    x = asarray(a)
    axes = normalize_axes(axis, x.ndim)
    # NumPy: integers and bools average in float64; float16 accumulates in float32.
    is_f16 = False
    if dtype is None:
        if x.dtype.kind in "biu":
            dtype = np.dtype(np.float64)
        elif x.dtype == np.float16:
            dtype, is_f16 = np.dtype(np.float32), True
    if where is not True:
        w = operand(where)
        count = sum(np.broadcast_to(to_numpy(w) if is_array(w) else w, x.shape),
                    axis=axis, dtype=np.intp, keepdims=keepdims)
    else:
        count = _count(x, axes)
        if count == 0:
            import warnings
            warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
    total = sum(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)
    from hpcarray._api import ufuncs

    if is_array(total):
        res = ufuncs.apply(np.true_divide, total, count, out=total, casting="unsafe")
        if is_f16 and out is None:
            res = res.astype(np.float16)
        return res
    with np.errstate(invalid="ignore", divide="ignore"):
        value = total / count
    return (np.float16 if is_f16 else total.dtype.type)(value)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=_NOVALUE):
    if correction is not _NOVALUE:
        ddof = correction
    x = asarray(a)
    axes = normalize_axes(axis, x.ndim)
    m = globals()["mean"](x, axis=axes, dtype=dtype, keepdims=True, where=where) \
        if mean is None else mean
    d = x - m
    if d.dtype.kind == "c":
        sq = (d * d.conj()).real
    else:
        sq = d * d
    n = _count(x, axes) if where is True else sum(
        np.broadcast_to(to_numpy(operand(where)), x.shape), axis=axes, dtype=np.intp,
        keepdims=keepdims)
    total = sum(sq, axis=axes, dtype=dtype, keepdims=keepdims, where=where)
    denom = n - ddof
    if not is_array(denom) and denom <= 0:
        import warnings
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        denom = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        res = total / denom
    if x.dtype.kind in "fc" and dtype is None and is_array(res):
        res = res.astype(x.real.dtype if x.dtype.kind == "c" else x.dtype, copy=False)
    elif x.dtype.kind in "fc" and dtype is None:
        res = (x.real.dtype if x.dtype.kind == "c" else x.dtype).type(res)
    if out is not None:
        from hpcarray._api.manipulation import assign

        assign(out, res)
        return out
    return res


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=_NOVALUE):
    v = var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
            correction=correction)
    from hpcarray._api import ufuncs

    if is_array(v):
        return ufuncs.apply(np.sqrt, v, out=out) if out is not None else ufuncs.apply(np.sqrt, v)
    return np.sqrt(v)


def _arg_reduce(name, a, axis, out, keepdims):
    x = asarray(a)
    np_fn = getattr(np, name)
    np_fn(np.zeros(_probe_shape(x.shape, ()), x.dtype), axis=axis, keepdims=keepdims)
    if x.size == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    if axis is None:
        flat = x.ravel()
        res = _arg_reduce(name, flat, 0, None, False)
        if keepdims:
            res = asarray(np.asarray(res).reshape((1,) * x.ndim))
        if out is not None:
            from hpcarray._api.manipulation import assign

            assign(out, res)
            return out
        return res
    ax = _norm(axis, x.ndim)
    target, kd = _allocate(x, (ax,), keepdims, np.dtype(np.intp), out)
    pick = np.argmin if name == "argmin" else np.argmax

    def partial(tile, pos):
        # `pos` holds global indices along the axis: the tile's offset is its first one.
        idx = pick(tile, axis=ax, keepdims=True)
        return np.take_along_axis(tile, idx, axis=ax), idx + int(pos.reshape(-1)[0])

    positions = _positions_along(x, ax)

    def combine(parts, o):
        vals = np.concatenate([p[0] for p in parts], axis=ax)
        idxs = np.concatenate([p[1] for p in parts], axis=ax)
        best = pick(vals, axis=ax, keepdims=True)
        np.copyto(o, np.take_along_axis(idxs, best, axis=ax))

    ops.reduction(name, x, [positions], (ax,), kd, partial, combine)
    return _result(target, out)


def _positions_along(x, ax):
    """An index array along `ax`, broadcast over the other axes (a 0-stride view)."""
    from hpcarray._api.creation import arange

    shape = [1] * x.ndim
    shape[ax] = x.shape[ax]
    return arange(x.shape[ax]).reshape(shape)


def argmax(a, axis=None, out=None, *, keepdims=False):
    return _arg_reduce("argmax", a, axis, out, keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    return _arg_reduce("argmin", a, axis, out, keepdims)


def cumsum(a, axis=None, dtype=None, out=None):
    x = asarray(a)
    if axis is None:
        x, axis = x.ravel(), 0
    return ufunc_accumulate(np.add, x, axis, dtype if dtype is not None else _acc_dtype(x),
                            out)


def cumprod(a, axis=None, dtype=None, out=None):
    x = asarray(a)
    if axis is None:
        x, axis = x.ravel(), 0
    return ufunc_accumulate(np.multiply, x, axis,
                            dtype if dtype is not None else _acc_dtype(x), out)


def _acc_dtype(x):
    """NumPy's sum/cumsum accumulate small integers and bools in the platform integer."""
    if x.dtype.kind == "b" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return np.dtype(np.int_)
    if x.dtype.kind == "u" and x.dtype.itemsize < 8:
        return np.dtype(np.uint)
    return None


def _nan_to(a, value):
    from hpcarray._api.ufuncs import apply

    x = asarray(a)
    if x.dtype.kind not in "fc":
        return x
    from hpcarray._api.manipulation import where as _where

    return _where(apply(np.isnan, x), value, x)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return sum(_nan_to(a, 0), axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return prod(_nan_to(a, 1), axis, dtype, out, keepdims, initial, where)


def nanmax(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    res = ufunc_reduce(np.fmax, a, axis, None, out, keepdims, initial, where)
    _warn_all_nan(res)
    return res


def nanmin(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    res = ufunc_reduce(np.fmin, a, axis, None, out, keepdims, initial, where)
    _warn_all_nan(res)
    return res


def _warn_all_nan(res):
    import warnings

    values = to_numpy(res) if is_array(res) else np.asarray(res)
    if values.dtype.kind in "fc" and np.isnan(values).any():
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    x = asarray(a)
    if x.dtype.kind not in "fc":
        return mean(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)
    from hpcarray._api.ufuncs import apply

    valid = apply(np.logical_not, apply(np.isnan, x))
    if where is not True:
        valid = apply(np.logical_and, valid, operand(where))
    return mean(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=valid)
