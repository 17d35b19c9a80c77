"""Joining, splitting, tiling and rearranging arrays.

Joins are elementwise copies of each input into the matching slice view of the output,
so they run per output tile; splits, flips and rotations are exact views (no data moves).
Result dtypes, shapes and errors come from NumPy itself, asked on cheap stand-ins.
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from hpcarray._api import ops, reductions, ufuncs
from hpcarray._api.convert import (
    asarray,
    from_numpy,
    is_array,
    new_array,
    new_result,
    numpy_args,
    shape_probe,
    to_numpy,
)
from hpcarray._api.indexing import basic_view
from hpcarray._api.manipulation import (
    _UNSAFE_COPY,
    assign,
    copy,
    expand_dims,
    ravel,
    reshape,
    round_,
    transpose,
)
from hpcarray._api.statistics import median
from hpcarray._dtypes import check_dtype
from hpcarray._replicated import replicated_across_ranks
from hpcarray.runtime import get_runtime
from hpcarray.runtime.fusion import copy_func, pieces

__all__ = [
    "append", "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "block",
    "column_stack", "concatenate", "concat", "delete", "dsplit", "dstack", "flip", "fliplr",
    "flipud", "hsplit", "hstack", "insert", "pad", "repeat", "resize", "roll", "rot90",
    "split", "stack", "tile", "trim_zeros", "unstack", "vsplit", "vstack",
]


def _copy_into(target, src, name="copy") -> None:
    ops.elementwise(name, _UNSAFE_COPY, [target], [src], copy_aliased=copy)


def _slice_key(ndim, axis, sl) -> tuple:
    return (slice(None),) * axis + (sl,)


# -- joining -------------------------------------------------------------------------------


def _as_sequence(arrays, what="concatenate"):
    if is_array(arrays):
        return [arrays[i] for i in range(arrays.shape[0])] if arrays.ndim else [arrays]
    return list(arrays)


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    if is_array(arrays):
        if arrays.ndim == 0:
            raise ValueError("zero-dimensional arrays cannot be concatenated")
        arrays = [arrays[i] for i in range(arrays.shape[0])]
    xs = [asarray(a) for a in arrays]
    if axis is None:
        xs = [ravel(x) for x in xs]
        axis = 0
    # NumPy checks everything on stand-ins with the joined axis at extent 0.
    stands = []
    for x in xs:
        shape = list(x.shape)
        if x.ndim:
            try:
                shape[normalize_axis_index(axis, x.ndim)] = 0
            except (np.exceptions.AxisError, TypeError):
                pass
        stands.append(shape_probe(x.dtype, tuple(shape)))
    if out is not None and dtype is not None:
        raise TypeError("concatenate() only takes `out` or `dtype` as an argument, "
                        "but both were provided.")
    kwargs = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = dtype
    probe = np.concatenate(stands, axis=axis, **kwargs)
    axis = normalize_axis_index(axis, xs[0].ndim)
    total = sum(x.shape[axis] for x in xs)
    shape = probe.shape[:axis] + (total,) + probe.shape[axis + 1:]
    if out is not None:
        if out.ndim != len(shape):
            raise ValueError("Output array has wrong dimensionality")
        if out.shape != shape:
            raise ValueError("Output array is the wrong shape")
        if not np.can_cast(probe.dtype, out.dtype, casting):
            raise TypeError(
                f"Cannot cast array data from {probe.dtype!r} to {out.dtype!r} according "
                f"to the rule {casting!r}")
        res = out
    else:
        dtype = check_dtype(probe.dtype)
        res = _joined(xs, axis, shape, dtype, "concatenate")
        if res is not None:
            return res
        res = new_result(shape, dtype)
    start = 0
    for x in xs:
        n = x.shape[axis]
        if n:
            _copy_into(basic_view(res, _slice_key(res.ndim, axis, slice(start, start + n))),
                       x, "concatenate")
        start += n
    return res


def _joined(xs, axis: int, shape: tuple, dtype, name: str):
    """`xs` joined along `axis` by one fused copy that reads the pieces in place
    (runtime/pieces.py), so that a joined temporary is never written; None where that does
    not apply (small, dtypes to cast, fusion off, replicated pieces across ranks)."""
    rt = get_runtime()
    size = math.prod(shape)
    if rt.fusion is None or not size or rt.is_small(size):
        return None
    if rt.dist is not None and any(x._v.store.replicates for x in xs):
        return None
    operand = pieces.join(axis, [x._v for x in xs])
    if operand is None or operand.dtype != dtype:
        return None
    res = new_array(shape, dtype)
    return res if rt.fusion.record(copy_func(name, dtype), res, [operand]) else None


def concat(arrays, /, *, axis=0):
    return concatenate(arrays, axis=axis)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    xs = [asarray(a) for a in _as_sequence(arrays, "stack")]
    if not xs:
        raise ValueError("need at least one array to stack")
    if len({x.shape for x in xs}) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis_index(operator.index(axis), xs[0].ndim + 1)
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis, out=out, dtype=dtype,
                       casting=casting)


def _check_sequence(tup):
    if not isinstance(tup, (list, tuple)) and not is_array(tup):
        raise TypeError('arrays to stack must be passed as a "sequence" type such as list '
                        'or tuple.')


def hstack(tup, *, dtype=None, casting="same_kind"):
    _check_sequence(tup)
    arrs = atleast_1d(*tup)
    if not isinstance(arrs, tuple):
        arrs = (arrs,)
    if arrs and arrs[0].ndim == 1:
        return concatenate(arrs, 0, dtype=dtype, casting=casting)
    return concatenate(arrs, 1, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    _check_sequence(tup)
    arrs = atleast_2d(*tup)
    if not isinstance(arrs, tuple):
        arrs = (arrs,)
    return concatenate(arrs, 0, dtype=dtype, casting=casting)


row_stack = vstack


def dstack(tup):
    _check_sequence(tup)
    arrs = atleast_3d(*tup)
    if not isinstance(arrs, tuple):
        arrs = (arrs,)
    return concatenate(arrs, 2)


def column_stack(tup):
    _check_sequence(tup)
    arrays = []
    for v in tup:
        x = asarray(v)
        if x.ndim < 2:
            x = transpose(atleast_2d(x))
        arrays.append(x)
    return concatenate(arrays, 1)


def atleast_1d(*arys):
    res = []
    for a in arys:
        x = asarray(a)
        res.append(reshape(x, (1,)) if x.ndim == 0 else x)
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*arys):
    res = []
    for a in arys:
        x = asarray(a)
        if x.ndim == 0:
            x = reshape(x, (1, 1))
        elif x.ndim == 1:
            x = expand_dims(x, 0)
        res.append(x)
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*arys):
    res = []
    for a in arys:
        x = asarray(a)
        if x.ndim == 0:
            x = reshape(x, (1, 1, 1))
        elif x.ndim == 1:
            x = expand_dims(x, (0, 2))
        elif x.ndim == 2:
            x = expand_dims(x, 2)
        res.append(x)
    return res[0] if len(res) == 1 else tuple(res)


def append(arr, values, axis=None):
    x = asarray(arr)
    v = asarray(values)
    if axis is None:
        if x.ndim != 1:
            x = ravel(x)
        v = ravel(v)
        axis = x.ndim - 1
    return concatenate((x, v), axis=axis)


def block(arrays):
    """numpy.block: nested lists joined from the innermost level outwards."""
    def depth_of(a, index):
        if isinstance(a, tuple):
            raise TypeError(
                f"{index_str(index)} is a tuple. Only lists can be used to arrange blocks, "
                "and np.block does not allow implicit conversion from tuple to ndarray.")
        if isinstance(a, list):
            if not a:
                raise ValueError(f"List at {index_str(index)} cannot be empty")
            depths = [depth_of(v, index + [i]) for i, v in enumerate(a)]
            first = depths[0]
            for d in depths:
                if d[0] != first[0]:
                    raise ValueError(
                        "List depths are mismatched. First element was at depth "
                        f"{first[0]}, but there is an element at depth {d[0]} "
                        f"({index_str(d[1])})")
            return first[0] + 1, first[1]
        return 0, index

    def index_str(index):
        return "arrays" + "".join(f"[{i}]" for i in index)

    list_ndim, _ = depth_of(arrays, [])
    leaves = []

    def collect(a):
        if isinstance(a, list):
            for v in a:
                collect(v)
        else:
            leaves.append(asarray(a))

    collect(arrays)
    result_ndim = max([list_ndim] + [x.ndim for x in leaves])

    def build(a, depth):
        if depth == list_ndim:
            x = asarray(a)
            if x.ndim < result_ndim:
                x = reshape(x, (1,) * (result_ndim - x.ndim) + x.shape)
            return x
        parts = [build(v, depth + 1) for v in a]
        return concatenate(parts, axis=-(list_ndim - depth))

    res = build(arrays, 0)
    if list_ndim == 0:
        return copy(res)
    return res


# -- splitting -------------------------------------------------------------------------------


def array_split(ary, indices_or_sections, axis=0):
    x = asarray(ary)
    ntotal = x.shape[axis]
    axis = normalize_axis_index(axis, x.ndim)
    try:
        nsections = len(indices_or_sections) + 1
        div_points = [0] + [operator.index(i) for i in indices_or_sections] + [ntotal]
    except TypeError:
        nsections = int(indices_or_sections)
        if nsections <= 0:
            raise ValueError("number sections must be larger than 0.") from None
        each, extras = divmod(ntotal, nsections)
        sizes = [0] + extras * [each + 1] + (nsections - extras) * [each]
        div_points = np.cumsum(sizes).tolist()
    return [basic_view(x, _slice_key(x.ndim, axis, slice(div_points[i], div_points[i + 1])))
            for i in range(nsections)]


def split(ary, indices_or_sections, axis=0):
    try:
        len(indices_or_sections)
    except TypeError:
        x = asarray(ary)
        if x.shape[axis] % indices_or_sections:
            raise ValueError("array split does not result in an equal division") from None
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    x = asarray(ary)
    if x.ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    x = asarray(ary)
    if x.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(x, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    x = asarray(ary)
    if x.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(x, indices_or_sections, 2)


def unstack(x, /, *, axis=0):
    a = asarray(x)
    if a.ndim == 0:
        raise ValueError("Input array must be at least 1-d.")
    axis = normalize_axis_index(axis, a.ndim)
    return tuple(basic_view(a, _slice_key(a.ndim, axis, i)) for i in range(a.shape[axis]))


# -- rearranging -------------------------------------------------------------------------------


def flip(m, axis=None):
    x = asarray(m)
    if axis is None:
        return basic_view(x, (slice(None, None, -1),) * x.ndim)
    axes = normalize_axis_tuple(axis, x.ndim)
    key = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(x.ndim))
    return basic_view(x, key)


def fliplr(m):
    x = asarray(m)
    if x.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return basic_view(x, (slice(None), slice(None, None, -1)))


def flipud(m):
    x = asarray(m)
    if x.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return basic_view(x, (slice(None, None, -1),))


def rot90(m, k=1, axes=(0, 1)):
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    x = asarray(m)
    a0, a1 = axes
    if a0 == a1 or abs(a0 - a1) == x.ndim:
        raise ValueError("Axes must be different.")
    if not (-x.ndim <= a0 < x.ndim and -x.ndim <= a1 < x.ndim):
        raise ValueError(f"Axes={axes} out of range for array of ndim={x.ndim}.")
    k = operator.index(k) % 4
    if k == 0:
        return basic_view(x, (slice(None),))
    if k == 2:
        return flip(flip(x, a0), a1)
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(x, a1), tuple(perm))
    return flip(transpose(x, tuple(perm)), a1)


def roll(a, shift, axis=None):
    x = asarray(a)
    if axis is None:
        out = new_array(x.shape, x.dtype)
        _roll_into(reshape(out, (x.size,)), ravel(x), {0: shift})
        return out
    axis = normalize_axis_tuple(axis, x.ndim, allow_duplicate=True)
    b = np.broadcast(shift, axis)
    if b.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    shifts = {ax: 0 for ax in range(x.ndim)}
    for sh, ax in b:
        shifts[ax] += sh
    moved = {ax: operator.index(sh) % x.shape[ax] for ax, sh in shifts.items()
             if x.shape[ax] and operator.index(sh) % x.shape[ax]}
    if len(moved) == 1:  # the last s, then the rest: a join of two windows
        ((ax, sh),) = moved.items()
        cut = x.shape[ax] - sh
        res = _joined([basic_view(x, _slice_key(x.ndim, ax, slice(cut, None))),
                       basic_view(x, _slice_key(x.ndim, ax, slice(None, cut)))],
                      ax, x.shape, x.dtype, "roll")
        if res is not None:
            return res
    out = new_array(x.shape, x.dtype)
    _roll_into(out, x, shifts)
    return out


def _roll_into(out, x, shifts) -> None:
    pieces: list[list[tuple[slice, slice]]] = []
    for ax in range(x.ndim):
        n = x.shape[ax]
        s = operator.index(shifts.get(ax, 0)) % n if n else 0
        if s == 0:
            pieces.append([(slice(None), slice(None))])
        else:
            pieces.append([(slice(None, n - s), slice(s, None)),
                           (slice(n - s, None), slice(None, s))])
    combos: list[tuple[tuple, tuple]] = [((), ())]
    for opts in pieces:
        combos = [(src + (o[0],), dst + (o[1],)) for src, dst in combos for o in opts]
    for src, dst in combos:
        _copy_into(basic_view(out, dst), basic_view(x, src), "roll")


def tile(A, reps):
    try:
        tup = tuple(reps)
    except TypeError:
        tup = (reps,)
    tup = tuple(operator.index(t) for t in tup)
    x = asarray(A)
    d = len(tup)
    if x.ndim < d:
        x = reshape(x, (1,) * (d - x.ndim) + x.shape)
    if d < x.ndim:
        tup = (1,) * (x.ndim - d) + tup
    if any(t < 0 for t in tup):
        raise ValueError("negative dimensions are not allowed")
    shape_out = tuple(s * t for s, t in zip(x.shape, tup))
    out = new_array(shape_out, x.dtype)
    if out.size == 0:
        return out
    split_shape = tuple(v for t, s in zip(tup, x.shape) for v in (t, s))
    target = reshape(out, split_shape)
    src = expand_dims(x, tuple(range(0, 2 * x.ndim, 2)))
    _copy_into(target, src, "tile")
    return out


def repeat(a, repeats, axis=None):
    x = asarray(a)
    if axis is None:
        x = ravel(x)
        axis = 0
    else:
        axis = normalize_axis_index(operator.index(axis), x.ndim)
    reps = to_numpy(repeats) if is_array(repeats) else repeats
    n = x.shape[axis]
    # NumPy's checks and the repeated length, on a one-byte stand-in of the axis.
    probe = np.repeat(np.empty(n, np.int8), reps)
    length = probe.shape[0]
    reps_np = np.broadcast_to(np.asarray(reps), (n,)).astype(np.intp)
    shape = x.shape[:axis] + (length,) + x.shape[axis + 1:]
    out = new_array(shape, x.dtype)
    # Result index j along the axis comes from the source index whose run holds j.
    along = np.repeat(np.arange(n, dtype=np.intp), reps_np)
    ops.pick_along_axes("repeat", out, x, [along if d == axis else np.arange(m)
                                           for d, m in enumerate(shape)])
    return out


def resize(a, new_shape):
    if isinstance(new_shape, (int, np.integer)):
        new_shape = (new_shape,)
    x = asarray(a)
    new_shape = tuple(operator.index(n) for n in new_shape)
    new_size = 1
    for dim in new_shape:
        if dim < 0:
            raise ValueError("all elements of `new_shape` must be non-negative")
        new_size *= dim
    if x.size == 0 or new_size == 0:
        return new_array(new_shape, x.dtype, zero=True)
    out = new_array(new_shape, x.dtype)
    flat_out = reshape(out, (new_size,))
    flat_in = ravel(x)
    n = x.size
    full, rest = divmod(new_size, n)
    if full:
        target = reshape(basic_view(flat_out, (slice(0, full * n),)), (full, n))
        _copy_into(target, flat_in, "resize")
    if rest:
        _copy_into(basic_view(flat_out, (slice(full * n, None),)),
                   basic_view(flat_in, (slice(0, rest),)), "resize")
    return out


@replicated_across_ranks
def trim_zeros(filt, trim="fb", axis=None):
    x = asarray(filt)
    data = to_numpy(x)
    np.trim_zeros(np.zeros(data.shape, np.int8), trim, axis)  # NumPy's checks
    nz = np.nonzero(data)
    trim = trim.lower()
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    key = [slice(None)] * x.ndim
    for ax in axes:
        if nz[0].size == 0:
            lo = hi = 0
        else:
            lo, hi = int(nz[ax].min()), int(nz[ax].max()) + 1
        key[ax] = slice(lo if "f" in trim else 0, hi if "b" in trim else x.shape[ax])
        if nz[0].size == 0 and "f" not in trim and "b" in trim:
            key[ax] = slice(0, 0)
        if nz[0].size == 0 and "f" in trim:
            key[ax] = slice(0, 0)
    return basic_view(x, tuple(key))


# -- delete / insert (index arithmetic, then a gather) ----------------------------------------


def delete(arr, obj, axis=None):
    from hpcarray._api.indexing import take

    x = asarray(arr)
    if axis is None:
        if x.ndim != 1:
            x = ravel(x)
        axis = 0
    axis = normalize_axis_index(axis, x.ndim)
    obj = numpy_args(obj)
    keep = np.delete(np.arange(x.shape[axis]), obj)
    return take(x, from_numpy(keep), axis=axis)


@replicated_across_ranks
def insert(arr, obj, values, axis=None):
    x = asarray(arr)
    res = np.insert(to_numpy(x), numpy_args(obj), numpy_args(values), axis=axis)
    return from_numpy(res)


# -- pad -----------------------------------------------------------------------------------


def _as_pairs(value, ndim, as_index=False):
    if value is None:
        return ((None, None),) * ndim
    arr = np.array(value)
    if as_index:
        arr = np.round(arr).astype(np.intp)
    if arr.ndim < 3:
        # NumPy scalars here, as in NumPy: they are not "weak" in type promotion, which
        # decides the dtype linear_ramp computes in.
        if arr.size == 1:
            v = arr.ravel()[0]
            if as_index and v < 0:
                raise ValueError("index can't contain negative values")
            return ((v, v),) * ndim
        if arr.size == 2 and arr.shape != (2, 1):
            v0, v1 = arr.ravel()
            if as_index and (v0 < 0 or v1 < 0):
                raise ValueError("index can't contain negative values")
            return ((v0, v1),) * ndim
    if as_index and arr.min() < 0:
        raise ValueError("index can't contain negative values")
    return tuple(tuple(p) for p in np.broadcast_to(arr, (ndim, 2)).tolist())


# Modes whose padding copies elements of the array (with reflect_type "even").
_INDEX_PAD = ("edge", "wrap", "reflect", "symmetric")
# Statistics padded from slices and reductions of the output.
_STATS = {"maximum": reductions.max, "minimum": reductions.min, "mean": reductions.mean,
          "median": median}


def pad(array, pad_width, mode="constant", **kwargs):
    x = asarray(array)
    pw = np.asarray(numpy_args(pad_width))
    if pw.dtype.kind not in "biu":
        raise TypeError("`pad_width` must be of integral type.")
    pairs = [(int(b), int(e)) for b, e in _as_pairs(pw, x.ndim, as_index=True)]
    shape = tuple(n + b + e for n, (b, e) in zip(x.shape, pairs))
    if callable(mode):
        res = np.pad(to_numpy(x), pw, mode, **numpy_args(kwargs))
        return from_numpy(res)
    allowed = {
        "constant": {"constant_values"}, "edge": set(), "wrap": set(),
        "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}, "empty": set(),
        "linear_ramp": {"end_values"}, "maximum": {"stat_length"}, "mean": {"stat_length"},
        "median": {"stat_length"}, "minimum": {"stat_length"},
    }
    if mode not in allowed:
        raise ValueError(f"mode '{mode}' is not supported")
    bad = set(kwargs) - allowed[mode]
    if bad:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {bad}")
    if mode not in ("constant", "empty"):
        for ax, (n, (b, e)) in enumerate(zip(x.shape, pairs)):
            if n == 0 and (b or e):
                raise ValueError(f"can't extend empty axis {ax} using modes other than "
                                 "'constant' or 'empty'")
    # NumPy treats any reflect_type but "odd" as "even".
    odd = mode in ("reflect", "symmetric") and kwargs.get("reflect_type") == "odd"
    lengths = None
    if mode in _STATS:
        # NumPy clips each stat_length to its axis.
        lengths = [tuple(n if v is None else min(int(v), n) for v in pair) for n, pair in
                   zip(x.shape, _as_pairs(kwargs.get("stat_length"), x.ndim, as_index=True))]
        if x.size and mode != "mean" and any(0 in pair for pair in lengths):
            raise ValueError("stat_length of 0 yields no value for padding")
    out = new_result(shape, x.dtype)
    if mode == "mean" and x.size and any(0 in p for p in lengths):
        # A mean of no values is NumPy's NaN and warnings.
        kw = numpy_args(kwargs)
        ops.whole("pad", lambda o, i: np.copyto(o[0], np.pad(i[0], pairs, mode, **kw)),
                  [out], [x])
        return out
    if mode in _INDEX_PAD and not odd and not _pad_fits(mode, x.shape, pairs):
        # These modes only pick elements, each axis on its own: padding the axes'
        # index ranges the same way says where every element comes from.
        maps = [np.pad(np.arange(n, dtype=np.intp), pair, mode)
                for n, pair in zip(x.shape, pairs)]
        ops.pick_along_axes("pad", out, x, maps)
        return out
    center = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, pairs))
    if x.size:
        _copy_into(basic_view(out, center), x, "pad")
    if mode == "empty" or not out.size:
        return out
    values = None
    if mode in ("constant", "linear_ramp"):
        key = "constant_values" if mode == "constant" else "end_values"
        values = _as_pairs(kwargs.get(key, 0), x.ndim)
    # Axis by axis like NumPy: padding axis k reads what axes < k padded (the corners).
    for ax, (n, (b, e)) in enumerate(zip(x.shape, pairs)):
        if not b and not e:
            continue
        view = functools.partial(_pad_roi, out, center, ax)
        if mode in _STATS:
            _pad_stat(view, _STATS[mode], ax, n, b, e, lengths[ax])
        elif mode == "linear_ramp":
            _pad_ramp(view, ax, n, b, e, values[ax])
        elif odd:
            _pad_odd(view, n, b, e, mode == "symmetric")
        else:
            for side, width in (("before", b), ("after", e)):
                if not width:
                    continue
                target = view(slice(0, b) if side == "before" else slice(b + n, b + n + e))
                if mode == "constant":
                    assign(target, values[ax][0 if side == "before" else 1])
                else:
                    _copy_into(target, view(_pad_source(mode, side, n, b, width)), "pad")
    return out


def _pad_fits(mode: str, shape: tuple, pairs: list) -> bool:
    """Whether every pad of a copying mode fits in one copy of its axis."""
    if mode in ("wrap", "symmetric"):
        return all(b <= n and e <= n for n, (b, e) in zip(shape, pairs))
    if mode == "reflect":
        return all((b == 0 and e == 0) or (b <= n - 1 and e <= n - 1)
                   for n, (b, e) in zip(shape, pairs))
    return True


def _pad_roi(out, center: tuple, ax: int, sl: slice):
    """The view NumPy pads axis `ax` in: axes before it whole (already padded), axes
    after it still only their original part, `sl` along `ax`."""
    return basic_view(out, (slice(None),) * ax + (sl,) + center[ax + 1:])


def _pad_stat(view, func, ax: int, n: int, b: int, e: int, lengths: tuple) -> None:
    """Fill each side with `func` of the `lengths` values next to its edge."""
    lo, hi, dtype = b, b + n, view(slice(0, 0)).dtype
    stats: dict = {}
    for width, dst, src in ((b, (0, b), (lo, lo + lengths[0])),
                            (e, (hi, hi + e), (hi - lengths[1], hi))):
        if not width:
            continue
        if src not in stats:  # both sides often take the whole axis
            stat = func(view(slice(*src)), axis=ax, keepdims=True)
            if stat.dtype != dtype and np.issubdtype(dtype, np.integer):
                stat = round_(stat)  # NumPy rounds an integer array's mean
            stats[src] = stat
        _copy_into(view(slice(*dst)), stats[src], "pad")


def _pad_ramp(view, ax: int, n: int, b: int, e: int, ends: tuple) -> None:
    """linear_ramp as NumPy's linspace makes it: from the end value towards the edge
    (excluded), in linspace's dtype, floored for integer arrays."""
    probe = view(slice(0, 0))
    dtype, trail = probe.dtype, (1,) * (probe.ndim - 1 - ax)
    for width, end, edge, dst, rev in ((b, ends[0], b, slice(0, b), False),
                                        (e, ends[1], b + n - 1, slice(b + n, b + n + e), True)):
        if not width:
            continue
        dt = np.linspace(end, np.zeros((), dtype), 0, endpoint=False).dtype
        delta = ufuncs.apply(np.subtract, view(slice(edge, edge + 1)), end, dtype=dt)
        step = delta / width
        i = np.arange(width, dtype=dt).reshape((-1, *trail))
        i = i[::-1] if rev else i  # the right ramp runs from the far end inwards
        if reductions.any(step == 0):  # linspace's order for steps that underflow
            ramp = ufuncs.apply(np.multiply, i / width, delta)
        else:
            ramp = ufuncs.apply(np.multiply, i, step)
        ufuncs.apply(np.add, ramp, end, out=ramp)
        if np.issubdtype(dtype, np.integer):
            ufuncs.apply(np.floor, ramp, out=ramp)
        _copy_into(view(dst), ramp, "pad")


def _pad_odd(view, n: int, b: int, e: int, include_edge: bool) -> None:
    """reflect_type="odd": 2 * edge - the mirrored values. A pad wider than the data is
    filled as NumPy does, in chunks reflecting what is already padded (a whole number of
    periods), each about the edge reached so far."""
    if n == 1:  # NumPy's legacy: a singleton axis repeats its value
        for dst in (slice(0, b), slice(b + 1, b + 1 + e)):
            if dst.stop > dst.start:
                _copy_into(view(dst), view(slice(b, b + 1)), "pad")
        return
    eo = int(include_edge)
    period = n - 1 + eo
    lo, hi, size = b, b + n, b + n + e
    while lo > 0 or hi < size:
        most = (hi - lo - 1 + eo) // period * period  # the chunk the valid part allows
        if lo:
            w = min(most, lo)
            src = view(slice(lo + w - eo, lo - eo, -1))
            _copy_into(view(slice(lo - w, lo)), 2 * view(slice(lo, lo + 1)) - src, "pad")
            lo -= w
        if hi < size:
            w = min(most, size - hi)
            stop = hi - 2 + eo - w
            src = view(slice(hi - 2 + eo, stop if stop >= 0 else None, -1))
            _copy_into(view(slice(hi, hi + w)), 2 * view(slice(hi - 1, hi)) - src, "pad")
            hi += w


def _pad_source(mode, side, n, b, w) -> slice:
    """The slice along the padded axis (in output coordinates) a pad region copies."""
    lo, hi = b, b + n  # the original data
    if mode == "edge":
        return slice(lo, lo + 1) if side == "before" else slice(hi - 1, hi)
    if mode == "wrap":
        return slice(hi - w, hi) if side == "before" else slice(lo, lo + w)
    if mode == "symmetric":
        if side == "before":
            return slice(lo + w - 1, lo - 1 if lo else None, -1)
        return slice(hi - 1, hi - w - 1 if hi - w - 1 >= 0 else None, -1)
    # reflect
    if side == "before":
        return slice(lo + w, lo, -1)
    return slice(hi - 2, hi - w - 2 if hi - w - 2 >= 0 else None, -1)

