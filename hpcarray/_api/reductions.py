"""Reductions (sum, prod, min, max, argmin, mean, var, ...), scans and counting.

`ufunc_reduce` is the template: NumPy validates the call on a small stand-in (axis,
dtype, identity and `where` errors come out exactly as NumPy's), then each input tile is
reduced to a partial and the partials of one output tile are combined in tile order.
Order-dependent reductions (subtract, divide, ...) run as one ordered task; `initial` is
applied once, in the combine. Small arrays with nothing pending take a fast path: NumPy's
own reduce on the local buffer.

mean/var/std and the nan-functions follow NumPy's algorithms step for step (accumulator
dtypes, in-place unsafe division, warnings, scalar-vs-array results).
"""

from __future__ import annotations

import builtins
import sys

import numpy as np

from hpcarray._api import ops
from hpcarray._api.convert import (
    asarray,
    is_array,
    new_array,
    numpy_view,
    operand,
    require_writeable,
    shape_text,
    to_numpy,
    wrap,
)
from hpcarray._dtypes import UnsupportedDtype
from hpcarray._fallback import call_numpy
from hpcarray.runtime import get_runtime
from hpcarray.runtime.algorithms.blocked_reduction import BlockedReduction

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
        require_writeable(out)
        target = out
    else:
        target = new_array(shape_out, dtype)
    if keepdims:
        return target, target
    kd = wrap(target._v.insert_unit_axes(axes), numpy_view(target).reshape(shape_kd))
    return target, kd


# Reductions whose result does not depend on how the input is grouped (up to rounding):
# these reduce per tile and combine the partials; the others run as one ordered task.
_ASSOCIATIVE = frozenset([
    np.add, np.multiply, np.maximum, np.minimum, np.fmax, np.fmin, np.logical_and,
    np.logical_or, np.logical_xor, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.gcd,
    np.lcm,
])


# Order-dependent reductions whose NumPy reduce equals the last slice of its accumulate
# (checked for float, int and complex; NumPy's power and arctan2 reduce loops do not).
_REDUCE_IS_LAST_OF_ACCUMULATE = frozenset([
    np.subtract, np.divide, np.floor_divide, np.remainder, np.fmod, np.hypot,
    np.float_power, np.left_shift, np.right_shift, np.copysign, np.logaddexp,
])


def _check_where(w, shape) -> None:
    """NumPy's errors for a `where=` mask that cannot apply to an array of `shape`."""
    if not np.can_cast(w.dtype, np.bool_, "safe"):
        raise TypeError(f"Cannot cast array data from {w.dtype!r} to dtype('bool') according "
                        "to the rule 'safe'")
    try:
        ok = np.broadcast_shapes(w.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            "operands could not be broadcast together with remapped shapes "
            f"[original->remapped]: {shape_text(shape)} {shape_text(w.shape)} ")


def _fast_reduce(uf, a, axis, dtype, out, keepdims, initial, where):
    """Small array, nothing pending: NumPy's reduce on the local buffer (exact NumPy
    semantics and errors); None where the tiled path must run."""
    from hpcarray._api.ufuncs import _adopt, _ndarray_type

    rt = get_runtime()
    nd = _ndarray_type()
    if not rt.idle or type(a) is not nd or not rt.is_small(a._np.size) or \
            not isinstance(a._np, np.ndarray):  # (host data only: ufuncs.on_host)
        return None
    kw = {"axis": axis, "keepdims": keepdims}
    if dtype is not None:
        kw["dtype"] = dtype
    if initial is not _NOVALUE:
        kw["initial"] = initial
    if where is not True:
        if type(where) is nd and rt.is_small(where._np.size):
            kw["where"] = where._np
        elif type(where) is bool:
            kw["where"] = where
        else:
            return None
    if out is not None:
        o = out[0] if type(out) is tuple and len(out) == 1 else out
        if type(o) is not nd or not rt.is_small(o._np.size):
            return None
        uf.reduce(a._np, out=o._np, **kw)
        return o
    return _adopt(uf.reduce(a._np, **kw))


def ufunc_reduce(uf, a, axis=0, dtype=None, out=None, keepdims=False, initial=_NOVALUE,
                 where=True, temporary: bool = False):
    """`uf.reduce`. `temporary`: nothing but this call holds `a` (see only_here), so a
    pending fused computation of it may reduce it without storing it."""
    res = _fast_reduce(uf, a, axis, dtype, out, keepdims, initial, where)
    if res is not None:
        return res
    try:
        x = asarray(a)
    except UnsupportedDtype:  # strings, datetimes, objects: NumPy's
        if out is not None:
            raise
        return call_numpy(uf.reduce, f"{uf.__name__}.reduce", (a,), {
            "axis": axis, "dtype": dtype, "keepdims": keepdims, "initial": initial,
            "where": where})
    if out is not None and isinstance(out, tuple):
        out = out[0]
    if x.ndim == 0 and axis is not None and not isinstance(axis, tuple):
        _norm(axis, 1)  # NumPy reduces a 0-d array over axis 0 or -1 as over ()
        axis = ()
    probe_kwargs = {"axis": axis, "dtype": dtype, "keepdims": keepdims}
    if initial is not _NOVALUE:
        probe_kwargs["initial"] = initial
    where_arr = None
    if where is not True:
        where_arr = operand(where)
        if is_array(where_arr):
            _check_where(where_arr, x.shape)
            probe_kwargs["where"] = np.ones(_probe_shape(x.shape, ()), where_arr.dtype)
        else:
            probe_kwargs["where"] = where_arr
    axes = normalize_axes(axis, x.ndim)
    probe_in = np.zeros(_probe_shape(x.shape, axes), x.dtype)
    probe = np.asarray(uf.reduce(probe_in, **probe_kwargs))
    if out is not None:  # NumPy's errors for this out (its dtype changes the loop)
        uf.reduce(probe_in, out=np.zeros(probe.shape, out.dtype), **probe_kwargs)
    loop = _loop_dtype(uf, x.dtype, dtype, out, probe.dtype)
    target, kd = _allocate(x, axes, keepdims, probe.dtype if out is None else out.dtype, out)
    red_kwargs = {"dtype": loop}
    if initial is not _NOVALUE:
        red_kwargs["initial"] = initial
    if out is not None and out.dtype != loop and x.size:
        # NumPy starts the reduction in `out`: its first value (initial, else the first
        # element where the ufunc has no identity) passes through out's dtype.
        if initial is not _NOVALUE:
            red_kwargs["initial"] = _through(np.asarray(initial, loop), out.dtype, loop)[()]
        elif uf.identity is None and where is True:
            from hpcarray._api.manipulation import assign

            assign(kd, _reduce_from_first(uf, x, axes, loop, out.dtype))
            return _result(target, out)
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
    if uf in _REDUCE_IS_LAST_OF_ACCUMULATE and len(axes) == 1 and not ins and \
            set(red_kwargs) == {"dtype"}:
        # An order-dependent reduction (subtract, divide, fmod, ...) is the last slice of
        # the accumulation, which runs tile by tile along the axis in NumPy's order.
        acc = ufunc_accumulate(uf, x, axes[0], red_kwargs["dtype"])
        if acc.dtype == kd.dtype:
            from hpcarray._api.indexing import basic_view
            from hpcarray._api.manipulation import assign

            assign(kd, basic_view(acc, (slice(None),) * axes[0] + (slice(-1, None),)))
            return _result(target, out)
    if uf not in _ASSOCIATIVE:
        # The rest (`where`, `initial`): one task, in order.
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
        # In the loop dtype, then cast into o (reducing into o would start from the
        # first partial cast to o's dtype, as NumPy's reduce into an out does).
        res = parts[0] if len(parts) == 1 and "initial" not in red_kwargs else \
            uf.reduce(np.stack(parts), axis=0, **red_kwargs)
        np.copyto(o, res, casting="unsafe")

    blocked = join = None
    if uf in (np.add, np.multiply) and not ins and "where" not in red_kwargs and \
            np.dtype(red_kwargs["dtype"]).kind in "fc":
        blocked = BlockedReduction(uf, part_kwargs, red_kwargs)
    elif not ins and "where" not in red_kwargs:
        # Integer sums and products, max, min, logical and bitwise reductions come out the
        # same however the elements are grouped: a tile's partial may be joined from the
        # partials of its chunks of rows (a fused reduction, ops.reduction).
        def join(parts):
            rows = np.concatenate(parts, axis=0)
            return uf.reduce(rows, axis=0, keepdims=True, **part_kwargs) if 0 in axes \
                else rows
    ops.reduction(f"{uf.__name__}.reduce", x, ins, axes, kd, partial, combine, blocked,
                  temporary=temporary and x is a, join=join)
    return _result(target, out)


def _loop_dtype(uf, x_dtype, dtype, out, res_dtype) -> np.dtype:
    """The dtype NumPy's reduce accumulates in: `dtype=`, else the one its type resolution
    picks for (out, x); out only receives the final cast (sum(float64, out=int64) adds
    the floats)."""
    if dtype is not None:
        return np.dtype(dtype)
    if out is None:
        return res_dtype
    try:
        return uf.resolve_dtypes((out.dtype, x_dtype, None), reduction=True,
                                 casting="unsafe")[2]
    except (TypeError, ValueError):
        return out.dtype


def _through(value, via, loop):
    """`value` cast to `via`, then to `loop` (unsafely, silently): a value kept in an out."""
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return value.astype(via).astype(loop)


def _reduce_from_first(uf, x, axes, loop, via):
    """`uf` (no identity: max, min) reduced over `axes` in `loop` dtype, keeping the axes,
    where the first element along them passes through `via` first: NumPy copies it into
    the out to start from. The first slab along the first axis recursively, the rest as
    usual."""
    from hpcarray._api.ufuncs import apply

    if not axes:
        return _through(x, via, loop)
    lead = (slice(None),) * axes[0]
    first = _reduce_from_first(uf, x[lead + (slice(0, 1),)], axes[1:], loop, via)
    if x.shape[axes[0]] == 1:
        return first
    rest = ufunc_reduce(uf, x[lead + (slice(1, None),)], axes, loop, keepdims=True)
    return apply(uf, first, rest)


def ufunc_accumulate(uf, a, axis=0, dtype=None, out=None):
    x = asarray(a)
    probe = uf.accumulate(np.zeros(_probe_shape(x.shape, ()), x.dtype), axis=axis, dtype=dtype)
    if out is not None:
        require_writeable(out)
    res = out if out is not None else new_array(x.shape, probe.dtype)
    kwargs = {"axis": axis}
    if dtype is not None:
        kwargs["dtype"] = dtype
    name = f"{uf.__name__}.accumulate"
    if x.ndim and _scans_tile_by_tile(uf, x, res, probe.dtype):
        ops.scan(name, _accumulate_step(uf, _norm(axis, x.ndim), kwargs), res, x,
                 _norm(axis, x.ndim))
        return res
    ops.whole(name, lambda o, i: uf.accumulate(i[0], out=o[0], **kwargs), [res], [x])
    return res


def _scans_tile_by_tile(uf, x, res, dtype) -> bool:
    """Tile by tile gives NumPy's result where each step is uf(out[i-1], x[i]) in the
    result's dtype, and the result does not overlap the input at another mapping."""
    if uf.nin != 2 or uf.nout != 1 or res.dtype != dtype:
        return False
    try:
        if uf.resolve_dtypes((dtype, dtype, None))[2] != dtype:
            return False
    except (TypeError, ValueError):  # no loop for this dtype (NumPy raises in accumulate)
        return False
    rv, xv = res._v, x._v
    return rv.store.accesses is not xv.store.accesses or rv.same_mapping(xv)


def _accumulate_step(uf, axis: int, kwargs: dict):
    """One tile of `uf.accumulate`, continuing from `before` (the result just before)."""
    def step(o, i, before):
        if before is None:
            uf.accumulate(i, out=o, **kwargs)
            return
        np.copyto(o, i, casting="unsafe")
        first = o[(slice(None),) * axis + (slice(0, 1),)]
        uf(before, first, out=first)
        uf.accumulate(o, axis=axis, out=o)
    return step


# -- the reduction functions -------------------------------------------------------------


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    temporary = only_here(a)  # first, alone: counted references are exact
    return ufunc_reduce(np.add, a, axis, dtype, out, keepdims, initial, where, temporary)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    temporary = only_here(a)  # first, alone: counted references are exact
    return ufunc_reduce(np.multiply, a, axis, dtype, out, keepdims, initial, where, temporary)


# Python >= 3.11 moves a call's arguments into the callee's frame, so inside `np.sum(a*b)`
# the product is held by sum's parameter alone; older versions keep the caller's
# reference too (then nothing is ever found temporary). Free-threaded builds count
# references otherwise: not relied on there.
_COUNTS_MOVED = sys.version_info >= (3, 11) and getattr(sys, "_is_gil_enabled", lambda: True)()


def only_here(a) -> bool:
    """Whether the calling function's parameter `a` is the only reference to the hpcarray
    array `a`, to its view and to its store: a temporary (`np.sum(a * b)`) whose values
    nobody can read after the call. Call it as a statement of its own, first thing (an
    argument list being built holds references too). References counted: the caller's
    parameter, ours and getrefcount's argument for the array; the array's and the
    argument for its view and its store."""
    return (_COUNTS_MOVED and is_array(a) and sys.getrefcount(a) == 3
            and sys.getrefcount(a._v) == 2 and sys.getrefcount(a._v.store) == 2)


# The functions that call only_here: hpcarray's namespace must not wrap them (a wrapper
# would hold another reference); given data hpcarray does not hold, they run NumPy's.
COUNTS_REFERENCES = frozenset(["sum", "prod", "max", "min", "amax", "amin", "mean"])


def max(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    temporary = only_here(a)  # np.max(np.abs(a - b)): see sum
    return ufunc_reduce(np.maximum, a, axis, None, out, keepdims, initial, where, temporary)


def min(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    temporary = only_here(a)  # np.min(np.abs(a - b)): see sum
    return ufunc_reduce(np.minimum, a, axis, None, out, keepdims, initial, where, temporary)


amax, amin = max, min


def any(a, axis=None, out=None, keepdims=False, *, where=True):
    x = asarray(a)
    return ufunc_reduce(np.logical_or, x, axis, bool, out, keepdims, _NOVALUE, where)


def all(a, axis=None, out=None, keepdims=False, *, where=True):
    x = asarray(a)
    return ufunc_reduce(np.logical_and, x, axis, bool, out, keepdims, _NOVALUE, where)


def count_nonzero(a, axis=None, *, keepdims=False):
    x = asarray(a)
    if axis is not None and x.ndim == 0 and not isinstance(axis, tuple):
        normalize_axes(axis, 1)  # NumPy accepts axis 0 / -1 on 0-d input
        axis = ()
    normalize_axes(axis, x.ndim)
    from hpcarray._api.ufuncs import apply

    nz = apply(np.not_equal, x, 0) if x.ndim else asarray(to_numpy(x) != 0)
    res = sum(nz, axis=axis, dtype=np.intp, keepdims=keepdims)
    return res


def _count(x, axes) -> int:
    n = 1
    for d in axes:
        n *= x.shape[d]
    return n


def _count_items(x, axis, keepdims, where):
    """Elements per result: an int, or (with a where array) an intp array."""
    axes = normalize_axes(axis, x.ndim)
    if where is True:
        return _count(x, axes)
    from hpcarray._api.manipulation import broadcast_to

    w = operand(where)
    w = asarray(w) if not is_array(w) else w
    return sum(broadcast_to(w, x.shape), axis=axes, dtype=np.intp, keepdims=keepdims)


def _divide(total, count, out_given=False, cast=None):
    """NumPy's in-place division of a reduction result by its count."""
    from hpcarray._api import ufuncs

    if is_array(total):
        # (by an intp, as NumPy does: float32 and complex64 divide in double precision)
        if isinstance(count, (int, np.integer)):
            count = np.intp(count)
        return ufuncs.apply(np.true_divide, total, count, out=total, casting="unsafe")
    with np.errstate(invalid="ignore", divide="ignore"):
        value = total / count
    return (cast or total.dtype.type)(value)


def _any_true(cond) -> bool:
    if is_array(cond):
        return bool(any(cond))
    return bool(np.any(cond))


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    import warnings

    temporary = only_here(a)  # np.mean((a - b) ** 2): see sum
    try:
        x = asarray(a)
    except UnsupportedDtype:  # strings, datetimes, objects: NumPy's
        if out is not None:
            raise
        return call_numpy(np.mean, "mean", (a,), {"axis": axis, "dtype": dtype,
                                                   "keepdims": keepdims, "where": where})
    normalize_axes(axis, x.ndim)
    count = _count_items(x, axis, keepdims, where)
    if (count == 0) if isinstance(count, int) else _any_true(count == 0):
        warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
    # NumPy: integers and bools average in float64; float16 accumulates in float32.
    is_f16 = False
    if dtype is None:
        if x.dtype.kind in "biu":
            dtype = np.dtype(np.float64)
        elif x.dtype == np.float16:
            dtype, is_f16 = np.dtype(np.float32), True
    total = ufunc_reduce(np.add, x, axis, dtype, out, keepdims, _NOVALUE, where,
                         temporary)
    if is_array(total):
        res = _divide(total, count)
        if is_f16 and out is None:
            res = res.astype(np.float16)
        return res
    return _divide(total, count, cast=np.float16 if is_f16 else None)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=_NOVALUE, correction=_NOVALUE):
    import warnings

    from hpcarray._api import ufuncs

    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    x = asarray(a)
    axes = normalize_axes(axis, x.ndim)
    count = _count_items(x, axes, keepdims, where)
    if (ddof >= count) if isinstance(count, int) else _any_true(
            ufuncs.apply(np.greater_equal, ddof, count)):
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.dtype(np.float64)
    if mean is not _NOVALUE and mean is not None:
        m = operand(mean)
    else:
        m = sum(x, axis=axes, dtype=dtype, keepdims=True, where=where)
        div = count if isinstance(count, int) else count.reshape(m.shape)
        m = _divide(m, div)
    d = ufuncs.apply(np.subtract, x, m)
    if not is_array(d):
        d = asarray(d)
    if x.dtype.kind in "iuf":
        sq = ufuncs.apply(np.multiply, d, d, out=d)
    elif d.dtype.kind == "c":
        sq = ufuncs.apply(np.add, ufuncs.apply(np.square, d.real), ufuncs.apply(np.square, d.imag))
    else:
        sq = ufuncs.apply(np.multiply, d, ufuncs.apply(np.conjugate, d), out=d)
        sq = sq.real if sq.dtype.kind == "c" else sq
    # `sq` is ours and read by nothing else: reduced as it is computed, never stored.
    total = ufunc_reduce(np.add, sq, axes, dtype, out, keepdims, _NOVALUE, where,
                         temporary=True)
    if isinstance(count, int):
        denom = builtins.max(count - ddof, 0)
    else:
        denom = ufuncs.apply(np.maximum, ufuncs.apply(np.subtract, count, ddof), 0)
    return _divide(total, denom)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=_NOVALUE, correction=_NOVALUE):
    from hpcarray._api import ufuncs

    v = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where,
            mean=mean, correction=correction)
    if is_array(v):
        return ufuncs.apply(np.sqrt, v, out=v)
    return v.dtype.type(np.sqrt(v))


def _arg_reduce(name, a, axis, out, keepdims):
    x = asarray(a)
    np_fn = getattr(np, name)
    np_fn(np.zeros(_probe_shape(x.shape, ()), x.dtype), axis=axis, keepdims=keepdims)
    if x.size == 0 and (axis is None or x.shape[_norm(axis, x.ndim)] == 0):
        raise ValueError(f"attempt to get {name} of an empty sequence")
    if out is not None and is_array(out) and not np.can_cast(out.dtype, np.intp, "safe"):
        what = "scalar" if out.ndim == 0 else "array data"
        raise TypeError(f"Cannot cast {what} from {out.dtype!r} to "
                        f"{np.dtype(np.intp)!r} according to the rule 'safe'")
    if out is not None and is_array(out):
        require_writeable(out, "WRITEBACKIFCOPY base is read-only")
    if x.ndim == 0:
        axis = None
    if axis is None:
        flat = x.ravel()
        res = _arg_reduce(name, flat, 0, None, False)
        if keepdims and x.ndim:
            res = asarray(np.asarray(res).reshape((1,) * x.ndim))
        if out is not None:  # (indices cast into any out NumPy accepts: bool, int8)
            from hpcarray._api.manipulation import copyto

            copyto(out, res, casting="unsafe")
            return out
        return res
    ax = _norm(axis, x.ndim)
    target, kd = _allocate(x, (ax,), keepdims, np.dtype(np.intp), out)
    if x.size == 0:  # other axes empty: an empty result
        return _result(target, out)
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
        np.copyto(o, np.take_along_axis(idxs, best, axis=ax), casting="unsafe")

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


def _scan_input(a, axis):
    x = asarray(a)
    if x.ndim == 0 and axis is not None:
        _norm(axis, 1)
        axis = None
    return x, axis


def cumsum(a, axis=None, dtype=None, out=None):
    x, axis = _scan_input(a, axis)
    if axis is None:
        x, axis = x.ravel(), 0
    return ufunc_accumulate(np.add, x, axis, _scan_dtype(x, dtype, out), out)


def cumprod(a, axis=None, dtype=None, out=None):
    x, axis = _scan_input(a, axis)
    if axis is None:
        x, axis = x.ravel(), 0
    return ufunc_accumulate(np.multiply, x, axis, _scan_dtype(x, dtype, out), out)


def _scan_dtype(x, dtype, out):
    """NumPy's cumsum/cumprod accumulate small integers and bools in the platform integer,
    unless dtype or out is given (then their type resolution decides)."""
    if dtype is not None or out is not None:
        return dtype
    if x.dtype.kind == "b" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return np.dtype(np.int_)
    if x.dtype.kind == "u" and x.dtype.itemsize < 8:
        return np.dtype(np.uint)
    return None


def _nan_to(a, value):
    """(a with NaNs replaced by value, NaN mask or None) — NumPy's _replace_nan."""
    from hpcarray._api.ufuncs import apply

    x = asarray(a)
    if x.dtype.kind not in "fc":
        return x, None
    from hpcarray._api.manipulation import where as _where

    mask = apply(np.isnan, x)
    return _where(mask, np.asarray(value, x.dtype), x), mask


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return sum(_nan_to(a, 0)[0], axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    return prod(_nan_to(a, 1)[0], axis, dtype, out, keepdims, initial, where)


def nancumsum(a, axis=None, dtype=None, out=None):
    return cumsum(_nan_to(a, 0)[0], axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    return cumprod(_nan_to(a, 1)[0], axis, dtype, out)


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

    if res.dtype.kind not in "fc":
        return
    if is_array(res):
        from hpcarray._api.ufuncs import apply

        bad = _any_true(apply(np.isnan, res))
    else:
        bad = bool(np.isnan(res))
    if bad:
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)


def _check_inexact(x, dtype, out):
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        raise TypeError("If a is inexact, then dtype must be inexact")
    if out is not None and not np.issubdtype(out.dtype, np.inexact):
        raise TypeError("If a is inexact, then out must be inexact")


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    import warnings

    from hpcarray._api.ufuncs import apply

    x = asarray(a)
    if x.dtype.kind not in "fc":
        return mean(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)
    _check_inexact(x, dtype, out)
    filled, mask = _nan_to(x, 0)
    valid = apply(np.logical_not, mask)
    count = sum(valid, axis=axis, dtype=np.intp, keepdims=keepdims, where=where)
    total = sum(filled, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=where)
    if _any_true(apply(np.equal, count, 0)):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    return _divide(total, count)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
           mean=_NOVALUE, correction=_NOVALUE):
    import warnings

    from hpcarray._api import ufuncs

    x = asarray(a)
    if x.dtype.kind not in "fc":
        return var(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                   where=where, mean=mean, correction=correction)
    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    _check_inexact(x, dtype, out)
    axes = normalize_axes(axis, x.ndim)
    filled, mask = _nan_to(x, 0)
    valid = ufuncs.apply(np.logical_not, mask)
    if where is not True:
        valid = ufuncs.apply(np.logical_and, valid, operand(where))
    cnt_kd = sum(valid, axis=axes, dtype=np.intp, keepdims=True)
    if mean is not _NOVALUE and mean is not None:
        m = operand(mean)
    else:
        m = sum(filled, axis=axes, dtype=dtype, keepdims=True, where=valid)
        m = _divide(m, cnt_kd)
    d = ufuncs.apply(np.subtract, filled, m)
    d = _nan_to_zero_where(d, valid)
    if d.dtype.kind == "c":
        sq = ufuncs.apply(np.add, ufuncs.apply(np.square, d.real),
                          ufuncs.apply(np.square, d.imag))
    else:
        sq = ufuncs.apply(np.multiply, d, d)
    total = sum(sq, axis=axes, dtype=dtype, out=out, keepdims=keepdims, where=valid)
    cnt = sum(valid, axis=axes, dtype=np.intp, keepdims=keepdims)
    denom = ufuncs.apply(np.subtract, cnt, ddof)
    if _any_true(ufuncs.apply(np.less_equal, denom, 0)):
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=2)
    if is_array(denom):
        from hpcarray._api.manipulation import where as _where

        denom_f = _where(ufuncs.apply(np.less_equal, denom, 0), np.nan, denom)
    else:
        denom_f = np.nan if denom <= 0 else denom
    res = _divide(total, denom_f)
    return res


def _nan_to_zero_where(d, valid):
    from hpcarray._api.manipulation import where as _where

    return _where(valid, d, np.zeros((), d.dtype))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
           mean=_NOVALUE, correction=_NOVALUE):
    from hpcarray._api import ufuncs

    v = nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where,
               mean=mean, correction=correction)
    if is_array(v):
        return ufuncs.apply(np.sqrt, v, out=v)
    return v.dtype.type(np.sqrt(v))
