"""Indexing: basic indexing makes views (no data moves); advanced indexing, take, put and
friends become tasks over the arrays involved.

NumPy's own rules, result shapes and errors come from running the same indexing on a
zero-memory stand-in of the array (all strides 0) on the main thread at call time; only
index arrays (which decide shapes) are gathered. The data movement itself is a deferred
task. Functions whose result shape depends on the data (nonzero, argwhere, boolean
compress/extract) are sync points on the array they inspect, like any value reaching Python.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from hpcarray._api import ops
from hpcarray._api.convert import (
    asarray,
    from_numpy,
    is_array,
    new_array,
    numpy_args,
    numpy_view,
    on_device,
    operand,
    require_writeable,
    shape_probe,
    stand_in,
    to_numpy,
    wrap,
    writeable,
)
from hpcarray._api.elements import (
    along_axis_layout,
    basic_index_layout,
    coords,
    picked,
    pull,
    push,
    spread,
)
from hpcarray._api.masks import (
    compact,
    compacts,
    in_rows,
    leading_mask,
    nonzero_runs,
    rows_like,
    rowwise,
)
from hpcarray._replicated import replicated_across_ranks
from hpcarray.runtime import get_runtime
from hpcarray.runtime.algorithms import runs
from hpcarray.runtime.partition import ALL
from hpcarray.runtime.placed import Placed

__all__ = [
    "argwhere", "choose", "compress", "diag_indices", "diag_indices_from", "extract",
    "fill_diagonal", "flatnonzero", "ix_", "nonzero", "place", "put", "put_along_axis",
    "putmask", "ravel_multi_index", "select", "take", "take_along_axis", "tril_indices",
    "tril_indices_from", "triu_indices", "triu_indices_from", "unravel_index",
]


def _as_tuple(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)


def _is_basic(key: tuple) -> bool:
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            continue
        if isinstance(k, (bool, np.bool_)):
            return False
        if isinstance(k, (numbers.Integral, np.integer)):
            continue
        return False
    return True


def _normalize_basic(key: tuple) -> tuple:
    return tuple(int(k) if isinstance(k, (numbers.Integral, np.integer)) else k for k in key)


def basic_view(a, key: tuple):
    """The view `a[key]` for a basic index, 0-d for an all-integer index."""
    key = _normalize_basic(key)
    data = a._np
    if type(data) is Placed and a._v.store.blocked:  # (the loop's slices: no data here)
        shape_probe(data.dtype, data.shape)[key]  # NumPy's errors
        view = wrap(a._v.index(key))
        if not data.writeable:
            view._np.writeable = False
        return view
    data = numpy_view(a)
    res = data[key]
    if isinstance(res, np.generic):  # NumPy's scalar (CuPy gives 0-d arrays already)
        res = data[key + (Ellipsis,)]
    return wrap(a._v.index(key), res)


def _value_stand(value):
    """A value for the probes: arrays become zero-memory stand-ins, scalars stay."""
    if is_array(value):
        return stand_in(value.dtype, value.shape)
    return value


def _np_key(key: tuple):
    """The index as NumPy takes it, hpcarray index arrays gathered (and copied: kernels
    run later, after the caller may have changed its index arrays)."""
    return _frozen(numpy_args(key if len(key) != 1 else key[0]))


def _frozen(value):
    """`value` with every NumPy array in it (also in tuples and lists) copied."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    return value


def _np_values(value, dtype):
    """Values for a kernel that writes into an array of `dtype`, as a private NumPy array;
    complex into real warns here, once, as NumPy does."""
    vals = np.array(to_numpy(value) if is_array(value) else value)
    if vals.dtype.kind == "c" and dtype.kind not in "c":
        from hpcarray._api.manipulation import _complex_warning

        _complex_warning()
        vals = vals.real.copy()
    return vals


def _real_if_needed(value, dtype):
    """Complex values going into a real array lose their imaginary part (the warning was
    given on the probe at call time, not again on a worker)."""
    if is_array(value) and value.dtype.kind == "c" and dtype.kind != "c":
        from hpcarray._api.manipulation import real

        return real(value)
    return value


def getitem(a, key):
    key = _as_tuple(key)
    if _is_basic(key):
        view = basic_view(a, key)
        if view.ndim == 0 and Ellipsis not in key and None not in key:
            return to_numpy(view)[()]
        return view
    if len(key) == 1 and compacts(a, key[0]):
        return compact(a, key[0])
    layout = basic_index_layout(a, key)
    if layout is not None:
        return layout.pull("getitem")
    np_key = _np_key(key)
    probe = stand_in(np.int8, a.shape)[np_key]  # NumPy's errors and the result's shape
    if not isinstance(probe, np.ndarray):
        return to_numpy(a)[np_key]
    out = new_array(probe.shape, a.dtype)
    if out.size and spread(a):
        pull("getitem", out, a, picked(a.shape, np_key))
    elif out.size:
        def kernel(outs, ins):
            outs[0][...] = ins[0][np_key]

        ops.whole("getitem", kernel, [out], [a])
    return out


def _scatter(name: str, a, where: list[np.ndarray], value) -> None:
    """a's elements at `where` (view coordinates, one array per axis) = value, broadcast
    to the coordinates' shape, in order (the last of repeats wins)."""
    if not (is_array(value) and value._v.store.tiling.owners[0] != ALL):
        value = _np_values(value, a.dtype)
    push(name, a, where, value)


def setitem(a, key, value) -> None:
    require_writeable(a, "assignment destination is read-only")
    key = _as_tuple(key)
    if _is_basic(key):
        from hpcarray._api.manipulation import assign

        assign(basic_view(a, key), value)
        return
    if len(key) == 1 and leading_mask(a, key[0]) and _is_scalar(value):
        _set_where(a, key[0], value)
        return
    if len(key) == 1 and compacts(a, key[0]) and spread(a, value):
        _expand_into(a, key[0], value)
        return
    np_key = _np_key(key)
    value = operand(value)
    stand_in(a.dtype, a.shape, True)[np_key] = _value_stand(value)  # NumPy's checks
    value = _real_if_needed(value, a.dtype)
    if spread(a, value):
        _scatter("setitem", a, coords(a.shape, np_key), value)
        return

    def kernel(outs, ins):
        outs[0][np_key] = ins[0]

    ops.whole("setitem", kernel, [a], [value])


def _is_scalar(value) -> bool:
    return isinstance(value, (numbers.Number, np.generic)) or (
        (is_array(value) or isinstance(value, np.ndarray)) and value.ndim == 0)


def _set_where(a, mask, value) -> None:
    """a[mask] = scalar with a boolean mask of a's leading axes: an elementwise copy where
    the mask is true, tile by tile where the mask's tiles are (no sync, nothing moves)."""
    from hpcarray._api.manipulation import copyto

    value = operand(value)
    stand_in(a.dtype, a.shape, True)[np.broadcast_to(np.True_, mask.shape)] = \
        _value_stand(value)  # NumPy's checks (overflow, complex into real, ...)
    value = _real_if_needed(value, a.dtype)
    if mask.ndim < a.ndim:
        axes = tuple(range(mask.ndim, a.ndim))
        mask = wrap(mask._v.insert_unit_axes(axes),
                    numpy_view(mask).reshape(mask.shape + (1,) * len(axes)))
    copyto(a, value, casting="unsafe", where=mask)


def _expand_into(a, mask, value) -> None:
    """a[mask] = values across ranks (the inverse of `compact`): each rank writes the
    selected elements of its own rows, taking from the values' owners the run of values
    that its rows' selections correspond to. Neither the mask nor the values are gathered.
    """
    from hpcarray._api.manipulation import assign

    (laid,) = in_rows(a)
    mask = rows_like(mask, laid)
    value = _real_if_needed(operand(value), a.dtype)
    rest = a.shape[mask.ndim:]
    rt = get_runtime()
    sa, sm = laid._v.store, mask._v.store
    op = rt.operation("setitem", [sa, sm], [sa])  # the SPMD check; flushes fusion
    with rt.collective("expansion", op):
        rt.settle(sa)
        rt.settle(sm)
        lo, hi = runs.owned_rows(sa, rt.rank)
        selected = sm.rows(lo, hi)
        counts = rt.comm.allgather_obj(int(np.count_nonzero(selected)))
    total, start = sum(counts), sum(counts[:rt.rank])
    # NumPy's checks and messages, on a stand-in selecting `total` rows of `rest`
    stand = stand_in(a.dtype, (total,) + (1,) * (mask.ndim - 1) + rest, True)
    stand[np.broadcast_to(np.True_, (total,) + (1,) * (mask.ndim - 1))] = _value_stand(value)
    rows_of_values = is_array(value) and value.ndim == 1 + len(rest) and \
        value.shape[0] == total and total > 1 and value._v.store.tiling.owners[0] != ALL
    if rows_of_values:
        (value,) = in_rows(value)
        with rt.collective("expansion", op):
            rt.settle(value._v.store)
            vals = runs.take_runs(rt, value._v.store, start, counts[rt.rank])
    else:  # values shared by all rows (a row, a scalar): small, every rank holds them
        vals = np.broadcast_to(_np_values(value, a.dtype), (total,) + rest)
        vals = vals[start:start + counts[rt.rank]]
    sa.rows(lo, hi)[selected] = vals
    # (every rank wrote its own rows; the bookkeeping is the same on every rank)
    rt.dist.note_write(sa, tuple((0, n) for n in a.shape))
    if laid is not a:
        assign(a, laid)


# -- take / put ----------------------------------------------------------------------------


def take(a, indices, axis=None, out=None, mode="raise"):
    x = asarray(a)
    if is_array(indices) and out is None and mode in ("raise", "wrap", "clip") and \
            (axis is not None or x.ndim == 1):
        ax = normalize_axis_index(0 if axis is None else axis, x.ndim)
        layout = basic_index_layout(x, (slice(None),) * ax + (indices,))
        if layout is not None:
            return layout.pull("take", mode)
    idx = _frozen(numpy_args(indices))
    probe = np.take(stand_in(np.int8, x.shape), idx, axis=axis, mode=mode)
    if not isinstance(probe, np.ndarray):
        return np.take(to_numpy(x), idx, axis=axis, mode=mode)
    if out is not None:
        if out.shape != probe.shape:
            raise ValueError("output array does not match result of ndarray.take")
        require_writeable(out, "WRITEBACKIFCOPY base is read-only")
        res = out
    else:
        res = new_array(probe.shape, x.dtype)
    if res.size and out is None and spread(x):
        pull("take", res, x, picked(x.shape, lambda c: np.take(c, idx, axis=axis,
                                                                     mode=mode)))
    elif res.size:
        def kernel(outs, ins):
            np.copyto(outs[0], np.take(ins[0], on_device(idx), axis=axis, mode=mode),
                      casting="unsafe")

        ops.whole("take", kernel, [res], [x])
    return res


def take_along_axis(arr, indices, axis=-1):
    x = asarray(arr)
    if axis is None and x.ndim != 1:
        from hpcarray._api.manipulation import ravel

        x = ravel(x)
        axis = 0
    layout = along_axis_layout(x, indices, axis)
    if layout is not None:
        return layout.pull("take_along_axis")
    idx = np.array(numpy_args(indices))
    probe = np.take_along_axis(stand_in(np.int8, x.shape), idx, axis)
    res = new_array(probe.shape, x.dtype)
    if res.size and spread(x):
        pull("take_along_axis", res, x,
             picked(x.shape, lambda c: np.take_along_axis(c, idx, axis)))
    elif res.size:
        def kernel(outs, ins):
            outs[0][...] = np.take_along_axis(ins[0], on_device(idx), axis)

        ops.whole("take_along_axis", kernel, [res], [x])
    return res


def _require_array(a, name):
    if is_array(a):
        return
    if name == "place":
        raise TypeError(f"place() argument 1 must be numpy.ndarray, not {type(a).__name__}")
    if name == "putmask":
        raise TypeError("putmask: first argument must be an array")
    raise AttributeError(f"'{type(a).__name__}' object has no attribute 'ndim'")


def put_along_axis(arr, indices, values, axis):
    _require_array(arr, "put_along_axis")
    require_writeable(arr, "assignment destination is read-only")
    idx = np.array(numpy_args(indices))
    values = operand(values)
    if axis is None:  # NumPy's checks (its flat path cannot write to a stand-in)
        if idx.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        if idx.dtype.kind not in "iu":
            raise IndexError("`indices` must be an integer array")
        np.take(stand_in(np.int8, (arr.size,)), idx)  # bounds
        np.put_along_axis(np.zeros(idx.size, arr.dtype), np.arange(idx.size),
                          _value_stand(values), None)
    else:
        np.put_along_axis(stand_in(arr.dtype, arr.shape, True), idx, _value_stand(values),
                          axis)  # NumPy's checks
    values = _real_if_needed(values, arr.dtype)
    if spread(arr, values) and axis is not None:
        # The elements take_along_axis would read are the ones put_along_axis writes.
        _scatter("put_along_axis", arr,
                 coords(arr.shape, lambda c: np.take_along_axis(c, idx, axis)), values)
        return
    if spread(arr, values) and idx.size:  # axis None: flat positions
        flat = np.where(idx < 0, idx + arr.size, idx).astype(np.intp)
        _scatter("put_along_axis", arr, list(np.unravel_index(flat, arr.shape)), values)
        return

    def kernel(outs, ins):
        np.put_along_axis(outs[0], on_device(idx), ins[0], axis)

    ops.whole("put_along_axis", kernel, [arr], [values])


def put(a, ind, v, mode="raise") -> None:
    if not is_array(a):
        raise TypeError(f"argument 1 must be numpy.ndarray, not {type(a)}")
    require_writeable(a, "put: output array is read-only")
    idx = np.array(numpy_args(ind))
    v = operand(v)
    if mode == "raise" and idx.size:
        np.take(stand_in(np.int8, (a.size,)), idx, mode="raise")  # NumPy's bounds errors
    vals = _np_values(v, a.dtype)
    if vals.size == 0 or a.size == 0:
        return
    if spread(a) and idx.size:
        flat = idx.reshape(-1).astype(np.intp)
        flat = np.clip(flat, 0, a.size - 1) if mode == "clip" else np.mod(flat, a.size)
        _scatter("put", a, list(np.unravel_index(flat, a.shape)),
                 np.resize(vals.reshape(-1), flat.size))  # v repeats if shorter
        return

    def kernel(outs, ins):
        outs[0].put(on_device(idx), on_device(vals), mode)

    ops.whole("put", kernel, [a], [])


def place(arr, mask, vals) -> None:
    _require_array(arr, "place")
    require_writeable(arr, "WRITEBACKIFCOPY base is read-only")
    m = np.array(numpy_args(mask))
    vals_np = _np_values(operand(vals), arr.dtype)
    if m.size != arr.size:
        raise ValueError("place: mask and data must be the same size")
    if vals_np.size == 0 and m.any():
        raise ValueError("Cannot insert from an empty array!")
    if arr.size == 0 or not m.any():
        return
    if spread(arr):
        # The True positions in C order take vals one after another (cycled).
        where = np.nonzero(m.reshape(arr.shape))
        _scatter("place", arr, list(where), np.resize(vals_np.reshape(-1), where[0].size))
        return

    def kernel(outs, ins):
        np.place(outs[0], on_device(m), on_device(vals_np))

    ops.whole("place", kernel, [arr], [])


def putmask(a, mask, values) -> None:
    _require_array(a, "putmask")
    require_writeable(a, "putmask: output array is read-only")
    mask = operand(mask)
    values = operand(values)
    msize = mask.size if is_array(mask) else np.size(mask)
    if msize != a.size:
        raise ValueError("putmask: mask and data must be the same size")
    vsize = values.size if is_array(values) else np.size(values)
    if vsize == 0 or a.size == 0:
        return
    values = _real_if_needed(values, a.dtype)
    mshape = mask.shape if is_array(mask) else np.shape(mask)
    vshape = values.shape if is_array(values) else np.shape(values)
    if mshape == a.shape and (vsize == 1 or vshape == a.shape):
        # Values by flat position (cycled): elementwise where they have a's shape or one
        # value; then a masked copy, tile by tile.
        if vsize == 1:
            values = np.asarray(to_numpy(values) if is_array(values) else values).reshape(-1)[0]
        from hpcarray._api.manipulation import copyto

        copyto(a, values, casting="unsafe", where=mask)
        return
    if spread(a):
        # The masked positions take the values at their flat position (cycled); the mask
        # and values are arguments, like an index: every rank has them.
        where = np.nonzero(np.asarray(numpy_args(mask)).reshape(a.shape))
        flat = np.ravel_multi_index(where, a.shape)
        vals = _np_values(values, a.dtype).reshape(-1)
        _scatter("putmask", a, list(where), vals[flat % vals.size])
        return

    def kernel(outs, ins):
        np.putmask(outs[0], ins[0], ins[1])

    ops.whole("putmask", kernel, [a], [mask, values])


def fill_diagonal(a, val, wrap=False) -> None:
    _require_array(a, "fill_diagonal")
    val = _frozen(numpy_args(val))
    np.fill_diagonal(stand_in(a.dtype, a.shape, writeable(a)), val, wrap)  # NumPy's checks
    if spread(a) and a.size:
        flat = _diagonal_positions(a.shape, wrap)
        vals = _np_values(val, a.dtype).reshape(-1)
        if vals.size:
            _scatter("fill_diagonal", a, list(np.unravel_index(flat, a.shape)),
                     np.resize(vals, flat.size))  # val repeats along the diagonal
        return

    def kernel(outs, ins):
        np.fill_diagonal(outs[0], val, wrap)

    ops.whole("fill_diagonal", kernel, [a], [])


def _diagonal_positions(shape, wrap: bool) -> np.ndarray:
    """Flat positions fill_diagonal writes (NumPy's rule: a stride of one more than a
    row for 2-D, stopping after the square part unless `wrap`)."""
    size = int(np.prod(shape))
    if len(shape) == 2:
        step = shape[1] + 1
        end = size if wrap else min(size, shape[1] * shape[1])
    else:
        step = 1 + int(np.cumprod(shape[:-1]).sum())
        end = size
    return np.arange(0, end, step)


# -- data-dependent shapes (sync points on the inspected array) ----------------------------


def nonzero(a):
    x = asarray(a)
    if rowwise(x):  # each rank finds its own rows' nonzeros: nothing gathered
        return tuple(nonzero_runs("nonzero", x))
    return tuple(from_numpy(i) for i in np.nonzero(to_numpy(x)))


def argwhere(a):
    x = asarray(a)
    if rowwise(x):
        from hpcarray._api.joining import stack

        return stack(nonzero(x), axis=1)
    return from_numpy(np.argwhere(to_numpy(x)))


def flatnonzero(a):
    x = asarray(a)
    if rowwise(x):
        return nonzero_runs("flatnonzero", x, flat=True)[0]
    return from_numpy(np.flatnonzero(to_numpy(x)))


def compress(condition, a, axis=None, out=None):
    cond = np.asarray(numpy_args(condition))
    if cond.ndim != 1:
        raise ValueError("condition must be a 1-d array")
    x = asarray(a)
    if axis is None:
        from hpcarray._api.manipulation import ravel

        x = ravel(x)
        axis = 0
    return take(x, np.nonzero(cond)[0], axis=axis, out=out)


def extract(condition, arr):
    from hpcarray._api.manipulation import ravel

    x = asarray(arr)
    if is_array(condition) and condition.shape == x.shape and rowwise(x):
        return compact(x, condition if condition.dtype == bool else condition != 0)
    cond = np.asarray(numpy_args(condition)).ravel()
    return take(ravel(x), np.nonzero(cond)[0])


# -- elementwise selection -------------------------------------------------------------------


def _shape_of(x):
    return x.shape if is_array(x) or isinstance(x, np.generic) else np.shape(x)


def _stand0(x):
    """A zero-size stand-in with x's dtype (scalars stay, for NumPy's promotion rules)."""
    if is_array(x):
        return np.empty((0,) * max(x.ndim, 1), x.dtype)
    return x


def choose(a, choices, out=None, mode="raise"):
    idx = operand(a)
    if is_array(choices):
        choices = [choices[i] for i in range(choices.shape[0])]
    chs = [operand(c) for c in choices]
    idx_np = np.asarray(to_numpy(idx) if is_array(idx) else idx)
    probe_dtype = np.result_type(*[c.dtype if is_array(c) else np.asarray(c).dtype
                                   for c in chs]) if chs else np.dtype(np.float64)
    # NumPy's errors (bad mode, bad index values, shapes) on small stand-ins.
    shape = np.broadcast_shapes(_shape_of(idx), *[_shape_of(c) for c in chs])
    if mode == "raise" and idx_np.size and chs:
        np.choose(np.array([idx_np.min(), idx_np.max()]).astype(idx_np.dtype),
                  [np.empty(1, probe_dtype)] * len(chs), mode=mode)
    else:
        np.choose(np.zeros(1, np.intp), [np.empty(1, probe_dtype)] * len(chs), mode=mode)
    if out is not None:
        require_writeable(out)
        res = out
    else:
        res = new_array(shape, probe_dtype)

    def kernel(outs, ins):
        np.copyto(outs[0], np.choose(ins[0], ins[1:], mode=mode), casting="unsafe")

    ops.elementwise("choose", kernel, [res], [idx, *chs])
    if out is None and res.ndim == 0 and not any(is_array(c) for c in [a, *choices]):
        return to_numpy(res)[()]
    return res


def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    conds = [operand(c) for c in condlist]
    chs = [operand(c) for c in choicelist]
    dflt = operand(default)
    np.select([_stand0(c) if is_array(c) else np.asarray(c)[..., None][:0] for c in conds],
              [_stand0(c) if is_array(c) else np.asarray(c) for c in chs],
              _stand0(dflt) if is_array(dflt) else dflt)  # NumPy's type checks
    dtype = np.result_type(*[c.dtype if is_array(c) else np.asarray(c).dtype for c in chs],
                           dflt.dtype if is_array(dflt) else np.asarray(dflt).dtype)
    np.broadcast_shapes(*[_shape_of(c) for c in conds])
    np.broadcast_shapes(*[_shape_of(c) for c in chs], _shape_of(dflt))
    shape = np.broadcast_shapes(*[_shape_of(c) for c in conds + chs], _shape_of(dflt))
    res = new_array(shape, dtype)
    n = len(conds)

    def kernel(outs, ins):
        outs[0][...] = np.select(list(ins[:n]), list(ins[n:2 * n]), ins[2 * n])

    ops.elementwise("select", kernel, [res], [*conds, *chs, dflt])
    return res


# -- index generators (small: made by NumPy, then wrapped) -----------------------------------


def _wrap_all(res):
    if isinstance(res, tuple):
        return tuple(_wrap_all(r) for r in res)
    return from_numpy(res) if isinstance(res, np.ndarray) else res


def diag_indices(n, ndim=2):
    return _wrap_all(np.diag_indices(n, ndim))


def diag_indices_from(arr):
    x = asarray(arr)
    return _wrap_all(np.diag_indices_from(stand_in(np.int8, x.shape)))


def tril_indices(n, k=0, m=None):
    return _wrap_all(np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
    return _wrap_all(np.triu_indices(n, k, m))


def tril_indices_from(arr, k=0):
    x = asarray(arr)
    if x.ndim != 2:
        raise ValueError("input array must be 2-d")
    return tril_indices(x.shape[-2], k=k, m=x.shape[-1])


def triu_indices_from(arr, k=0):
    x = asarray(arr)
    if x.ndim != 2:
        raise ValueError("input array must be 2-d")
    return triu_indices(x.shape[-2], k=k, m=x.shape[-1])


@replicated_across_ranks
def ix_(*args):
    return _wrap_all(np.ix_(*numpy_args(args)))


@replicated_across_ranks
def unravel_index(indices, shape, order="C"):
    return _wrap_all(np.unravel_index(numpy_args(indices), shape, order=order))


@replicated_across_ranks
def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    return _wrap_all(np.ravel_multi_index(numpy_args(multi_index), dims, mode=mode,
                                          order=order))


# -- a.flat ----------------------------------------------------------------------------------


def _flat_key(key) -> bool:
    """A key every backend's `a.flat` takes (an integer, a slice, Ellipsis); index arrays
    become the elements' coordinates instead."""
    return key is Ellipsis or isinstance(key, slice) or (
        isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, (bool, np.bool_)))


class FlatIter:
    """`a.flat`: iteration, indexing and assignment in C order."""

    def __init__(self, a):
        self._a = a

    @property
    def base(self):
        return self._a

    def __len__(self) -> int:
        return self._a.size

    def __iter__(self):
        return iter(to_numpy(self._a).ravel().copy())

    def copy(self):
        from hpcarray._api.manipulation import ravel

        return ravel(self._a).copy()

    def __getitem__(self, key):
        a = self._a
        key = _frozen(numpy_args(key))
        probe = stand_in(np.int8, a.shape).flat[key]  # NumPy's errors and shape
        if not isinstance(probe, np.ndarray):
            return to_numpy(a).flat[key]
        out = new_array(probe.shape, a.dtype)
        if not out.size:
            return out
        if spread(a):
            pull("flat.getitem", out, a, picked(a.shape, lambda c: c.flat[key]))
            return out
        if _flat_key(key):
            def kernel(outs, ins):
                outs[0][...] = ins[0].flat[key]
        else:  # index arrays: the elements' coordinates (CuPy's a.flat takes none)
            where = coords(a.shape, lambda c: c.flat[key])

            def kernel(outs, ins):
                outs[0][...] = ins[0][on_device(tuple(where))]
        ops.whole("flat.getitem", kernel, [out], [a])
        return out

    def __setitem__(self, key, value) -> None:
        a = self._a
        require_writeable(a, "underlying array is read-only")
        key = _frozen(numpy_args(key))
        value = operand(value)
        stand_in(np.int8, a.shape).flat[key]  # NumPy's index errors
        vals = _np_values(value, a.dtype)
        if a.size == 0:
            return
        if spread(a) or not _flat_key(key):
            where = coords(a.shape, lambda c: c.flat[key])
            # NumPy's flat assignment cycles (or cuts) the values to the selection's size.
            vals = np.resize(np.asarray(vals).reshape(-1), where[0].shape)
            if spread(a):
                _scatter("flat.setitem", a, where, vals)
                return

            def kernel(outs, ins):  # (index arrays: CuPy's a.flat takes none)
                outs[0][on_device(tuple(where))] = on_device(vals)
        else:
            def kernel(outs, ins):
                outs[0].flat[key] = on_device(vals)

        ops.whole("flat.setitem", kernel, [a], [])

    def __array__(self, dtype=None, copy=None):
        return to_numpy(self._a).ravel().astype(dtype) if dtype else to_numpy(self._a).ravel()
