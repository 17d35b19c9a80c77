"""Array manipulation: copies, casts, views (reshape, transpose, ...), joining, where/clip.

Views are index maps and move no data; joins and casts are elementwise copies over tiles.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from hpcarray._api import ops
from hpcarray._api.convert import (
    asarray,
    is_array,
    new_array,
    numpy_view,
    operand,
    require_writeable,
    set_writeable,
    shape_text,
    whole_array,
    wrap,
    writeable,
)
from hpcarray._api.elements import picked, pull, spread
from hpcarray._dtypes import check_dtype
from hpcarray.runtime import get_runtime
from hpcarray.runtime.fusion import Func, copy_func
from hpcarray.runtime.view import View


def _copy_kernel(casting):
    def kernel(outs, ins):
        np.copyto(outs[0], ins[0], casting=casting)
    return kernel


_UNSAFE_COPY = _copy_kernel("unsafe")


def _REAL_COPY(outs, ins):
    np.copyto(outs[0], ins[0].real, casting="unsafe")



def assign(target, value) -> None:
    """target[...] = value, with NumPy's setitem casting and errors."""
    require_writeable(target, "assignment destination is read-only")
    try:
        value = operand(value)
    except TypeError:  # a dtype hpcarray does not hold ("1.5", objects): NumPy converts
        if is_array(value):
            raise
        value = operand(np.array(value, dtype=target.dtype)) if np.ndim(value) else value
    if is_array(value) and value.dtype == target.dtype and value._v.same_mapping(target._v):
        # `a[k] = a[k]`, as Python ends `a[k] -= b`: nothing to copy. (Copying would also
        # make a fused kernel write one array through two pointers, which LLVM cannot
        # vectorize.)
        return
    if is_array(value):
        if value.shape != target.shape:
            try:
                if np.broadcast_shapes(value.shape, target.shape) != target.shape:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"could not broadcast input array from shape {shape_text(value.shape)} "
                    f"into shape {shape_text(target.shape)}"
                ) from None
        if value.dtype.kind == "c" and target.dtype.kind not in "cO":
            _complex_warning()
    else:
        # NumPy's checks for scalars (out-of-range Python ints, complex into real ...).
        probe = np.empty((), target.dtype)
        probe[()] = value
        value = probe[()]
    ops.elementwise("assign", _UNSAFE_COPY, [target], [value], copy_aliased=copy,
                    fused=copy_func("assign", target.dtype))


def _complex_warning():
    import warnings

    warnings.warn("Casting complex values to real discards the imaginary part",
                  np.exceptions.ComplexWarning, stacklevel=4)


def copy(a, order="K", subok=False):
    x = asarray(a)
    out = new_array(x.shape, x.dtype)
    ops.elementwise("copy", _UNSAFE_COPY, [out], [x], fused=copy_func("copy", x.dtype))
    return out


def astype(a, dtype, casting="unsafe", copy=True):
    dtype = check_dtype(np.dtype(dtype))
    if not copy and dtype == a.dtype:
        return a
    if not np.can_cast(a.dtype, dtype, casting):
        raise TypeError(
            f"Cannot cast array data from {a.dtype!r} to {dtype!r} according to the rule "
            f"{casting!r}"
        )
    kernel = _UNSAFE_COPY
    if a.dtype.kind == "c" and dtype.kind not in "cb":
        _complex_warning()  # here, once, not from every tile on the workers
        kernel = _REAL_COPY
    out = new_array(a.shape, dtype)
    fused = copy_func("astype", dtype) if kernel is _UNSAFE_COPY else None
    ops.elementwise("astype", kernel, [out], [a], fused=fused)
    return out


def copyto(dst, src, casting="same_kind", where=True) -> None:
    require_writeable(dst, "assignment destination is read-only")
    src = operand(src)
    src_dtype = src.dtype if hasattr(src, "dtype") else np.asarray(src).dtype
    if is_array(src) or isinstance(src, np.generic):
        if not np.can_cast(src_dtype, dst.dtype, casting):
            raise TypeError(
                f"Cannot cast array data from {src_dtype!r} to {dst.dtype!r} according "
                f"to the rule {casting!r}"
            )
    else:
        np.copyto(np.empty((), dst.dtype), src, casting=casting)
    if where is True:
        ops.elementwise("copyto", _UNSAFE_COPY, [dst], [src], copy_aliased=copy,
                        fused=copy_func("copyto", dst.dtype))
        return

    def kernel(outs, ins):
        np.copyto(outs[0], ins[0], casting="unsafe", where=ins[1])

    ops.elementwise("copyto", kernel, [dst], [src, operand(where)], copy_aliased=copy)


# -- views -------------------------------------------------------------------------------


def _norm_axis(axis, ndim):
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def transpose(a, axes=None):
    x = asarray(a)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    res = numpy_view(x).transpose(axes)  # NumPy checks the axes
    axes = tuple(_norm_axis(ax, x.ndim) for ax in axes)
    return wrap(x._v.transpose(axes), res)


def permute_dims(a, axes=None):
    return transpose(a, axes)


def swapaxes(a, axis1, axis2):
    x = asarray(a)
    numpy_view(x).swapaxes(axis1, axis2)  # NumPy's errors
    i, j = _norm_axis(axis1, x.ndim), _norm_axis(axis2, x.ndim)
    axes = list(range(x.ndim))
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(x, tuple(axes))


def moveaxis(a, source, destination):
    x = asarray(a)
    np.moveaxis(numpy_view(x), source, destination)  # NumPy's errors
    src = [_norm_axis(s, x.ndim) for s in np.atleast_1d(source).tolist()]
    dst = [_norm_axis(d, x.ndim) for d in np.atleast_1d(destination).tolist()]
    rest = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        rest.insert(d, s)
    return transpose(x, tuple(rest))


def broadcast_to(array, shape, subok=False):
    x = asarray(array)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    res = np.broadcast_to(numpy_view(x), shape)  # NumPy's errors
    return wrap(x._v.broadcast_to(tuple(res.shape)), res)


def broadcast_arrays(*args, subok=False):
    arrays = [asarray(a) for a in args]
    shape = np.broadcast_shapes(*[a.shape for a in arrays])
    return tuple(broadcast_to(a, shape) for a in arrays)


def squeeze(a, axis=None):
    x = asarray(a)
    res = np.squeeze(numpy_view(x), axis)
    if axis is None:
        axes = tuple(d for d, n in enumerate(x.shape) if n == 1)
    else:
        axes = tuple(_norm_axis(ax, x.ndim) for ax in (axis if isinstance(axis, tuple)
                                                        else (axis,)))
    return wrap(x._v.drop_unit_axes(axes), res)


def expand_dims(a, axis):
    x = asarray(a)
    res = np.expand_dims(numpy_view(x), axis)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(sorted(_norm_axis(ax, res.ndim) for ax in axes))
    return wrap(x._v.insert_unit_axes(axes), res)


def _alias(x, np_view):
    """A view NumPy can make but a View cannot express: an alias store over it."""
    store = get_runtime().alias_store(np_view, x._v.store)
    a = wrap(View.whole(store), np_view)
    if not writeable(x):  # (NumPy's views have its flag already; device data has none)
        set_writeable(a, False)
    return a


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    x = asarray(a)
    res = _reshape(x, shape, order, newshape, copy)
    if not writeable(x) and res._v.store.root is x._v.store.root:
        set_writeable(res, False)  # a view of a read-only array, whichever way it was made
    return res


def _reshape(x, shape, order, newshape, copy):
    if shape is None:
        shape = newshape
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if order == "A":
        order = "F" if x._np.flags.f_contiguous and not x._np.flags.c_contiguous else "C"
    if order == "F":
        # Reading and placing in Fortran order is C order on the reversed axes.
        rev = tuple(range(x.ndim))[::-1]
        new_shape = np.broadcast_to(np.empty((), np.int8), x.shape).reshape(
            shape, order="F").shape
        inner = reshape(transpose(x, rev), new_shape[::-1], copy=copy)
        return transpose(inner, tuple(range(len(new_shape)))[::-1])
    if order not in ("C", None):
        raise ValueError(f"order must be one of 'C', 'F', 'A' (got {order!r})")
    # NumPy works out -1 and raises its own error for a bad size.
    new_shape = np.broadcast_to(np.empty((), np.int8), x.shape).reshape(shape).shape
    if copy:
        return reshape(x.copy(), new_shape)
    if new_shape == x.shape:
        return wrap(x._v, numpy_view(x))
    squeezed = [n for n in x.shape if n != 1]
    if [n for n in new_shape if n != 1] == squeezed and not _has_broadcast_unit(x):
        # Only unit axes differ: still an exact view.
        base = squeeze(x)
        axes = tuple(d for d, n in enumerate(new_shape) if n == 1)
        return wrap(base._v.insert_unit_axes(axes), numpy_view(x).reshape(new_shape))
    store = x._v.store
    if store.blocked:  # each rank holds a block: a reshape that keeps the tiles
        if x._v.is_whole and not store.is_alias:
            alias = get_runtime().blocked_alias(store, tuple(new_shape))
            if alias is not None:
                return whole_array(alias)
        window = _window_of_whole_reshape(x, new_shape)
        if window is not None:
            return window
    try:
        np_view = x._np.reshape(new_shape, copy=False)
    except ValueError:
        if copy is False:
            raise
        return reshape(x.copy(), new_shape)
    if x._v.is_whole and not x._v.store.is_alias and x.size == 0:
        return _alias(x, np_view)
    if 0 in np_view.strides and x.size:
        return reshape(x.copy(), new_shape)
    window = _window_of_whole_reshape(x, new_shape)
    if window is not None:
        return window
    return _alias(x, np_view)


def _window_of_whole_reshape(x, new_shape):
    """Across ranks, a reshape that NumPy makes as a view of a window of an array
    (`a[2:5].reshape(-1)`, `a[:, 2:6].reshape(n, 2, 2)`) as a window of a reshape of the
    whole array, which keeps the array's tiles (an alias of the window alone would be
    computed replicated, on gathered data). None where the window's edges do not fall
    on the whole reshape's axes."""
    v, store = x._v, x._v.store
    if get_runtime().dist is None or store.is_alias or v.is_whole or v.dims != tuple(
            (d, 1) for d in range(x.ndim)) or not x.size:
        return None
    groups = _reshape_groups(x.shape, new_shape)
    if groups is None:
        return None
    base_shape: list[int] = []
    key: list = []
    for (i0, i1), (j0, j1) in groups:
        if j0 == j1:  # a unit axis of x that the reshape drops: its index in the base
            base_shape.append(store.shape[i0])
            key.append(v.start[i0])
            continue
        if i0 == i1:  # a unit axis the reshape adds
            base_shape.append(1)
            key.append(slice(None))
            continue
        # x's axes i0..i1 become new axes j0..j1: the inner ones must be whole, then the
        # merged base axis splits where the new axes do.
        if any(v.start[i] or v.shape[i] != store.shape[i] for i in range(i0 + 1, i1)):
            return None
        inner = math.prod(store.shape[i0 + 1:i1])
        merged, first = store.shape[i0] * inner, v.start[i0] * inner
        sizes = new_shape[j0:j1]
        q = math.prod(sizes[1:])
        if merged % q or first % q:
            return None
        base_shape += [merged // q, *sizes[1:]]
        key += [slice(first // q, first // q + sizes[0])] + [slice(None)] * (len(sizes) - 1)
    from hpcarray._api.indexing import basic_view

    whole = reshape(whole_array(store), tuple(base_shape))
    return basic_view(whole, tuple(key))


def _reshape_groups(old: tuple[int, ...], new: tuple[int, ...]):
    """Runs of axes of `old` and `new` whose sizes multiply alike, [((i0, i1), (j0, j1))],
    unit axes on their own; None if the sizes do not pair up."""
    groups: list = []
    i = j = 0
    while i < len(old) or j < len(new):
        if i < len(old) and old[i] == 1:
            groups.append(((i, i + 1), (j, j)))
            i += 1
            continue
        if j < len(new) and new[j] == 1:
            groups.append(((i, i), (j, j + 1)))
            j += 1
            continue
        if i == len(old) or j == len(new):
            return None
        i0, j0, po, pn = i, j, old[i], new[j]
        i, j = i + 1, j + 1
        while po != pn:
            if po < pn and i < len(old):
                po, i = po * old[i], i + 1
            elif pn < po and j < len(new):
                pn, j = pn * new[j], j + 1
            else:
                return None
        groups.append(((i0, i), (j0, j)))
    return groups


def _has_broadcast_unit(x) -> bool:
    return any(d < 0 and n != 1 for (d, _), n in zip(x._v.dims, x.shape))


def ravel(a, order="C"):
    x = asarray(a)
    if order == "K":
        # Memory order: C order of the axes sorted by decreasing |stride| (flips kept).
        strides = x.strides
        perm = sorted(range(x.ndim), key=lambda d: -abs(strides[d]))
        if x.ndim > 1 and perm != list(range(x.ndim)) and x.size > 1:
            return reshape(transpose(x, tuple(perm)), (x.size,))
        order = "C"
    if order not in ("C", "F", "A"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return reshape(x, (x.size,), order=order)


def repeat(a, repeats, axis=None):
    from hpcarray._api.joining import repeat as _repeat

    return _repeat(a, repeats, axis)


def real(a):
    x = asarray(a)
    if x.dtype.kind != "c":
        return x
    return _part(x, "real")


def imag(a):
    x = asarray(a)
    if x.dtype.kind != "c":
        res = new_array(x.shape, x.dtype, zero=True)
        set_writeable(res, False)
        return res
    return _part(x, "imag")


def view(a, dtype=None, type=None):
    if dtype is None or np.dtype(dtype) == a.dtype:
        return wrap(a._v, numpy_view(a))
    dtype = check_dtype(np.dtype(dtype))
    if dtype.itemsize == a.dtype.itemsize:
        return _part(a, dtype)
    return _alias(a, a._np.view(dtype))  # (the last axis changes length)


def _part(x, part):
    """x seen through `part` ("real", "imag" or a dtype of the same itemsize). Where each
    rank holds a block of x's store (a root, or such a part of one), the same view of a
    part alias of the whole store, which keeps the root's tiles (Runtime.part_alias);
    elsewhere an alias store over NumPy's view."""
    v = x._v
    store = v.store
    if store.blocked and store.carrier is store.root:  # (a root or a part alias)
        alias = get_runtime().part_alias(store, part)
        return wrap(View(alias, v.start, v.shape, v.dims), x._np)  # (x's writeable flag)
    return _alias(x, x._np.real if part == "real" else x._np.imag if part == "imag"
                  else x._np.view(part))


def diagonal(a, offset=0, axis1=0, axis2=1):
    x = asarray(a)
    res = np.diagonal(numpy_view(x), offset, axis1, axis2)
    out = new_array(res.shape, res.dtype)
    if out.size and spread(x):
        pull("diagonal", out, x, picked(x.shape, lambda c: np.diagonal(c, offset, axis1,
                                                                       axis2)))
    else:
        ops.whole("diagonal",
                  lambda o, i: np.copyto(o[0], np.diagonal(i[0], offset, axis1, axis2)),
                  [out], [x])
    set_writeable(out, True)
    return out


# -- where, clip, round ------------------------------------------------------------------


def where(condition, x=None, y=None):
    if x is None and y is None:
        from hpcarray._api.indexing import nonzero

        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    cond, xv, yv = operand(condition), operand(x), operand(y)
    probe = np.where(np.empty(0, bool), _stand(xv), _stand(yv))
    from hpcarray._api.ufuncs import _shape_of, broadcast_shape

    shape = broadcast_shape([_shape_of(cond), _shape_of(xv), _shape_of(yv)])
    out = new_array(shape, probe.dtype)

    def kernel(outs, ins):
        _where_call(outs[0], *ins)

    ops.elementwise("where", kernel, [out], [cond, xv, yv], fused=_where_func(out.dtype))
    return out


def _where_call(out, cond, x, y) -> None:
    np.copyto(out, np.where(cond, x, y), casting="unsafe")


_where_funcs: dict = {}


def _where_func(dtype: np.dtype) -> Func:
    f = _where_funcs.get(dtype)
    if f is None:  # the condition is used as it is, never cast to the result's dtype
        jit = get_runtime().backend.kernels.EXPRESSIONS["where"]
        f = _where_funcs[dtype] = Func("where", _where_call, jit, dtype, keep=(0,))
    return f


def _stand(v):
    return np.empty(0, v.dtype) if is_array(v) else v


def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,
         max=np._NoValue, **kwargs):
    from hpcarray._api.ufuncs import apply

    lo = a_min if a_min is not np._NoValue else (min if min is not np._NoValue else None)
    hi = a_max if a_max is not np._NoValue else (max if max is not np._NoValue else None)
    if lo is None and hi is None:
        if a_min is np._NoValue and min is np._NoValue:
            raise ValueError("One of max or min must be given")
        return apply(np.positive, a, out=out) if out is not None else copy(a)
    if lo is None:
        return apply(np.minimum, a, hi, out=out, **kwargs)
    if hi is None:
        return apply(np.maximum, a, lo, out=out, **kwargs)
    return apply(np._core.umath.clip, a, lo, hi, out=out, **kwargs)


def round_(a, decimals=0, out=None):
    x = asarray(a)
    if out is not None:
        require_writeable(out)
    res = out if out is not None else new_array(x.shape, np.round(np.empty(0, x.dtype),
                                                                 decimals).dtype)
    if out is None and x.dtype.kind in "iu" and decimals < 0:
        # (NumPy's own round of integers to tens cannot write into an integer out=)
        def kernel(o, i):
            o[0][...] = np.round(i[0], decimals)
    else:
        def kernel(o, i):
            np.round(i[0], decimals, out=o[0])
    ops.elementwise("round", kernel, [res], [x], copy_aliased=copy)
    return res


def shape(a):
    return np.shape(a) if not is_array(a) else a.shape


def ndim(a):
    return a.ndim if is_array(a) else np.ndim(a)


def size(a, axis=None):
    if not is_array(a):
        return np.size(a, axis)
    return a.size if axis is None else a.shape[axis]
