"""Universal functions: every NumPy ufunc, as tile tasks.

Result dtypes, casting rules and NumPy's errors come from NumPy itself: the call is first
made on empty stand-ins of the operands (the "probe"), which is cheap and exact (NEP 50
promotion included). Then the real call runs per output tile. Shape errors are NumPy's
too: the call is repeated on memory-free (zero-stride) stand-ins of the real shapes.

Fast path: when nothing is pending and every operand is below the partitioning threshold,
the ufunc runs at once on the local NumPy buffers (NumPy then does everything: dtypes,
broadcasting, casting, overlap, errors) and a fresh result becomes a store.

Generalized ufuncs (matmul, vecdot, matvec, vecmat) run through NumPy on gathered data.
"""

from __future__ import annotations

import numbers

import numpy as np

from hpcarray._api import ops
from hpcarray._api.convert import (
    adopt,
    is_array,
    new_array,
    on_device,
    operand,
    require_writeable,
    shape_text,
    stand_in,
    to_numpy,
)
from hpcarray._dtypes import SUPPORTED_SET, UnsupportedDtype
from hpcarray.runtime import fpe, get_runtime
from hpcarray.runtime.fpe import enter_caller, leave_caller
from hpcarray.runtime.fusion import Func

_NOVALUE = np._NoValue
_probe_cache: dict = {}


def _stand_in(x):
    if is_array(x):
        return np.empty(0, x.dtype)
    return x


def _probe_key(uf, args, outs, dtype, casting, where_given):
    key = [uf, dtype, casting, where_given]
    for x in args:
        if is_array(x) or isinstance(x, np.generic):
            key.append(x.dtype)
        elif isinstance(x, bool):
            key.append(bool)
        elif isinstance(x, int):
            key.append(("int", x))  # the value matters: out-of-range Python ints raise
        else:
            key.append(type(x))
    key.extend(o.dtype if o is not None else None for o in outs)
    return tuple(key)


def result_dtypes(uf, args, outs, dtype, casting, where_given=False) -> tuple[np.dtype, ...]:
    """Output dtypes of `uf(*args)` (raising NumPy's errors for bad combinations)."""
    key = _probe_key(uf, args, outs, dtype, casting, where_given)
    try:
        return _probe_cache[key]
    except (KeyError, TypeError):
        pass
    kwargs = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if any(o is not None for o in outs):
        kwargs["out"] = tuple(np.empty(0, o.dtype) if o is not None else None for o in outs)
    res = uf(*[_stand_in(x) for x in args], **kwargs)
    dts = tuple(r.dtype for r in res) if isinstance(res, tuple) else (res.dtype,)
    if len(_probe_cache) < 8192:
        try:
            _probe_cache[key] = dts
        except TypeError:
            pass
    return dts


def broadcast_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " ".join(shape_text(s) for s in shapes)
        raise ValueError(f"operands could not be broadcast together with shapes {listed} ")\
            from None


def _shape_of(x) -> tuple[int, ...]:
    return x.shape if is_array(x) or isinstance(x, np.generic) else ()


def _is_out_array(o) -> bool:
    return o is None or is_array(o) or isinstance(o, np.ndarray)


def _normalize_out(uf, args, out):
    nin, nout = uf.nin, uf.nout
    if len(args) > nin:
        if len(args) > nin + nout:
            raise TypeError(f"{uf.__name__}() takes from {nin} to {nin + nout} positional "
                            f"arguments but {len(args)} were given")
        if out is not None:
            raise TypeError("cannot specify 'out' as both a positional and keyword argument")
        out = tuple(args[nin:]) + (None,) * (nin + nout - len(args))
        args = args[:nin]
    if len(args) < nin:
        raise TypeError(
            f"{uf.__name__}() takes from {nin} to {nin + nout} positional arguments "
            f"but {len(args)} {'was' if len(args) == 1 else 'were'} given"
        )
    if out is None:
        return args, (None,) * nout
    if not isinstance(out, tuple):
        if nout > 1:
            raise TypeError("'out' must be a tuple of arrays")
        out = (out,)
    elif len(out) != nout:
        raise ValueError("The 'out' tuple must have exactly one entry per ufunc output")
    if not all(_is_out_array(o) for o in out):
        raise TypeError("return arrays must be of ArrayType")
    return args, out


def _numpy_result(uf, args, where, dtype, signature, casting, order):
    """NumPy's call, where an operand or the result has a dtype hpcarray does not hold:
    NumPy's result (its own array for such dtypes), with the fallback's warning."""
    from hpcarray._fallback import call_numpy

    kw = {k: v for k, v in (("dtype", dtype), ("signature", signature)) if v is not None}
    kw |= {"where": where} if where is not True else {}
    return call_numpy(uf, uf.__name__, args, kw | {"casting": casting, "order": order})


def _raise_numpy_error(uf, args, outs, where, kwargs):
    """Raise NumPy's own error for a call (shape errors) by making it on memory-free
    stand-ins of the operands' real shapes."""
    np_args = [stand_in(x.dtype, x.shape) if is_array(x) else x for x in args]
    np_outs = tuple(stand_in(o.dtype, o.shape, True) if o is not None else None
                    for o in outs)
    kw = dict(kwargs)
    if where is not True:
        kw["where"] = stand_in(where.dtype, where.shape) if is_array(where) else where
    with np.errstate(all="ignore"):
        uf(*np_args, out=np_outs, **kw)


def apply(uf, *args, out=None, where=True, casting="same_kind", order="K", dtype=None,
          subok=True, signature=None, **extra):
    """Call NumPy ufunc `uf` on hpcarray operands, tile by tile."""
    if not extra:
        res = _fast_call(uf, args, out, where, casting, order, dtype, signature)
        if res is not None:
            return res
    args, outs = _normalize_out(uf, args, out)
    if uf.signature is not None:
        return _gufunc_call(uf, args, outs, where=where, casting=casting, order=order,
                            dtype=dtype, signature=signature, **extra)
    if extra:  # axes=, axis=, keepdims= or a misspelling: NumPy's own TypeError
        uf(*[_stand_in(x) for x in args], **extra)
        raise TypeError(f"{uf.__name__}() got an unexpected keyword argument "
                        f"'{next(iter(extra))}'")
    if any(isinstance(o, np.ndarray) for o in outs):
        return _on_numpy(uf, args, outs, where, casting, dtype)
    try:
        args = [operand(x) for x in args]
    except UnsupportedDtype:  # data hpcarray does not hold (strings, datetimes, objects)
        if any(o is not None for o in outs):
            raise
        return _numpy_result(uf, args, where, dtype, signature, casting, order)
    where_given = where is not True
    if where_given:
        where = operand(where)
        if all(o is None for o in outs):
            import warnings

            warnings.warn("'where' used without 'out', expect unitialized memory in output. "
                          "If this is intentional, use out=None.", UserWarning, stacklevel=3)
    if dtype is None and signature is not None:
        dtype = signature if not isinstance(signature, tuple) else signature[-1]
    out_dtypes = result_dtypes(uf, args, outs, dtype, casting, where_given)
    if all(o is None for o in outs) and any(dt not in SUPPORTED_SET for dt in out_dtypes):
        return _numpy_result(uf, args, where, dtype, signature, casting, order)
    kwargs = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = dtype
    shapes = [_shape_of(x) for x in args]
    if where_given:
        shapes.append(_shape_of(where))
    try:
        shape = np.broadcast_shapes(*shapes)
        for o in outs:
            if o is not None and o.shape != shape:
                if np.broadcast_shapes(o.shape, shape) != o.shape:
                    raise ValueError
                shape = o.shape
    except ValueError:
        _raise_numpy_error(uf, args, outs, where, kwargs)
        broadcast_shape(shapes + [o.shape for o in outs if o is not None])
        raise
    for o in outs:
        if o is not None:
            require_writeable(o)
    if shape == () and all(o is None for o in outs):
        return _scalar_call(uf, args, where, casting, dtype)
    results = [o if o is not None else new_array(shape, dt) for o, dt in zip(outs, out_dtypes)]
    ins = list(args) + ([where] if where_given else [])
    nin = uf.nin

    if where_given:
        def kernel(out_tiles, in_tiles):
            uf(*_around_numpy_bugs(uf, in_tiles[:nin]), out=tuple(out_tiles),
               where=in_tiles[nin], **kwargs)
    else:
        def kernel(out_tiles, in_tiles):
            uf(*_around_numpy_bugs(uf, in_tiles), out=tuple(out_tiles), **kwargs)

    fused = None
    if len(results) == 1 and not where_given:
        fused = _fusable(uf, args, outs, dtype, casting, out_dtypes[0])
    with fpe.at_caller():  # (small operands run at once, NumPy's checks on this thread)
        ops.elementwise(uf.__name__, kernel, results, ins, copy_aliased=lambda x: x.copy(),
                        fused=fused)
    return results[0] if len(results) == 1 else tuple(results)


def _around_numpy_bugs(uf, tiles):
    """Operands as NumPy computes them right. NumPy 2.4's negative in a 4-byte loop reads
    an input with a stride of 16 bytes (a column of an array 4 wide) as if it were
    contiguous when `out` is strided too (`np.negative(a[:, 0], out=o[:, 0])` of float32
    4-column arrays): strided inputs of negative go in as contiguous copies."""
    if uf is not np.negative:
        return tiles
    return [np.ascontiguousarray(t) if isinstance(t, np.ndarray) and not t.flags.c_contiguous
            else t for t in tiles]


# The floating-point conditions NumPy's loops report for the ufuncs that compiled kernels
# compute (backend/cpu/ieee_flags.py tests the flags of exactly these).
_ARITH = fpe.OVER | fpe.UNDER | fpe.INVALID
_CONDITIONS = {"add": _ARITH, "subtract": _ARITH, "multiply": _ARITH, "divide": fpe.ALL,
               "true_divide": fpe.ALL, "square": _ARITH, "sqrt": fpe.INVALID}
_funcs: dict = {}


def _loop_dtype(uf, args, dtype):
    """The dtype NumPy's inner loop computes in for these operands (None if unknown)."""
    if dtype is not None:
        return np.dtype(dtype)
    dts = tuple(x.dtype if is_array(x) or isinstance(x, np.generic) else
                np.dtype(bool) if isinstance(x, bool) else
                type(x) if isinstance(x, (int, float, complex)) else None for x in args)
    if any(d is None for d in dts):  # (not `None in dts`: dtype("f8") == None)
        return None
    try:
        return uf.resolve_dtypes((*dts, None))[0]
    except (TypeError, ValueError, AttributeError):
        return None


def _fusable(uf, args, outs, dtype, casting, out_dtype) -> Func:
    """The ufunc call as a fusion.Func (the dtype it computes in, for compiled kernels)."""
    jit = get_runtime().backend.kernels.EXPRESSIONS.get(uf.__name__)
    conditions = _CONDITIONS.get(uf.__name__, 0)
    loop = out_dtype
    if jit is not None:
        loop = _loop_dtype(uf, args, dtype)
        if loop is None:
            jit = None
    key = (uf, casting, dtype, loop, jit)
    f = _funcs.get(key)
    if f is None:
        kwargs = {"casting": casting}
        if dtype is not None:
            kwargs["dtype"] = dtype

        def call(out, *ins):
            uf(*_around_numpy_bugs(uf, ins), out=out, **kwargs)
        f = _funcs[key] = Func(uf.__name__, call, jit, loop, conditions=conditions)
    return f


_SCALAR_TYPES = (int, float, complex, bool)


def _fast_call(uf, args, out, where, casting, order, dtype, signature):
    """Small operands and nothing pending: one NumPy call on the local buffers; a fresh
    result becomes a store. NumPy does the dtypes, broadcasting, casting, overlap handling
    and errors itself.

    Returns None where the general path must run (big operands, other operand types, a
    busy runtime, generalized ufuncs).
    """
    rt = get_runtime()
    if not rt.idle or len(args) != uf.nin or uf.signature is not None or not on_host(rt):
        return None
    ndarray = _ndarray_type()
    nps = []
    any_array = False
    for x in args:
        t = type(x)
        if t is ndarray:
            a = x._np
            if not rt.is_small(a.size):
                return None
            nps.append(a)
            any_array = True
        elif t in _SCALAR_TYPES:
            nps.append(x)
        else:
            return None
    kwargs = {}
    outs = None
    if out is not None:
        outs = out if type(out) is tuple else (out,)
        if len(outs) != uf.nout:
            return None
        for o in outs:
            if type(o) is not ndarray or not rt.is_small(o._np.size):
                return None
        kwargs["out"] = tuple(o._np for o in outs)
    elif not any_array:
        return None
    if where is not True:
        t = type(where)
        if t is ndarray and rt.is_small(where._np.size):
            kwargs["where"] = where._np
        elif t is bool:
            kwargs["where"] = where
        else:
            return None
    if casting != "same_kind":
        kwargs["casting"] = casting
    if dtype is not None:
        kwargs["dtype"] = dtype
    if signature is not None:
        kwargs["signature"] = signature
    if order != "K":
        kwargs["order"] = order
    token = enter_caller()  # NumPy's warnings name the caller's line
    try:
        res = uf(*_around_numpy_bugs(uf, nps), **kwargs)
    finally:
        leave_caller(token)
    if outs is not None:
        return outs[0] if len(outs) == 1 else outs
    if isinstance(res, tuple):
        return tuple(_adopt(r, uf) for r in res)
    return _adopt(res, uf)


def fast_binary(uf, a, b, swap: bool):
    """An operator's `uf(a, b)` (`uf(b, a)` if swap) on hpcarray array `a` in _fast_call's
    common case, checked in few steps: small operands, another array or a Python number,
    nothing pending. None where apply() must decide."""
    rt = get_runtime()
    x = a._np
    limit = rt.small_limit
    if x.size >= limit or not rt.idle or not isinstance(x, np.ndarray):  # (see on_host)
        return None
    t = type(b)
    if t is type(a):
        y = b._np
        if y.size >= limit:
            return None
    elif t in _SCALAR_TYPES:
        y = b
    else:
        return None
    token = enter_caller()  # NumPy's warnings name the caller's line
    try:
        res = uf(y, x) if swap else uf(x, y)
    finally:
        leave_caller(token)
    return _adopt(res, uf)


def on_host(rt) -> bool:
    """Whether tile memory is host memory, which the fast paths' one NumPy call and its
    NumPy result need (on a device backend small operations take the general path: the
    backend's kernels)."""
    return rt.backend.xp is np


def _adopt(res, uf=None):
    """A fresh NumPy result (or NumPy scalar) of `uf` as an hpcarray result."""
    if not isinstance(res, np.ndarray):
        return res
    if res.dtype not in SUPPORTED_SET:
        return _not_held(res, uf)
    if not res.flags.c_contiguous:
        res = np.ascontiguousarray(res)
    return adopt(res)


def _not_held(res: np.ndarray, uf):
    """A result of a dtype hpcarray does not hold (a frompyfunc's objects): NumPy's own
    array, as fallbacks give it, with the fallback's warning."""
    from hpcarray._fallback import warn_fallback

    warn_fallback(getattr(uf, "__name__", "ufunc"))
    return res


_NDARRAY = []


def _ndarray_type():
    if not _NDARRAY:
        from hpcarray._array import ndarray

        _NDARRAY.append(ndarray)
    return _NDARRAY[0]


def _scalar_call(uf, args, where, casting, dtype):
    """0-d results are NumPy scalars, as in NumPy."""
    np_args = [to_numpy(x) if is_array(x) else x for x in args]
    kwargs = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if where is not True:
        kwargs["where"] = to_numpy(where) if is_array(where) else where
    with fpe.at_caller():
        return uf(*np_args, **kwargs)


def _gufunc_call(uf, args, outs, **kwargs):
    """Generalized ufuncs (matmul, vecdot, matvec, vecmat): NumPy on the gathered operands;
    hpcarray `out=` arrays receive the result."""
    from hpcarray._api.convert import hpc_results, numpy_args

    kwargs = {k: v for k, v in kwargs.items()
              if not (v is None or (k == "where" and v is True)
                      or (k == "casting" and v == "same_kind") or (k == "order" and v == "K"))}
    kwargs = numpy_args(kwargs)
    np_args = [to_numpy(x) if is_array(x) else x for x in args]
    for o in outs:
        if is_array(o):
            require_writeable(o)
    with fpe.at_caller():
        if all(o is None for o in outs):
            return hpc_results(uf(*np_args, **kwargs))
        np_outs = tuple(to_numpy(o).copy() if is_array(o) else o for o in outs)
        res = uf(*np_args, out=np_outs, **kwargs)
    from hpcarray._api.manipulation import assign

    for o, r in zip(outs, np_outs):
        if is_array(o):
            assign(o, r)
    if isinstance(res, tuple):
        return tuple(outs)
    return outs[0]


def _on_numpy(uf, args, outs, where, casting, dtype):
    """An `out=` that is a NumPy array: compute with NumPy into it."""
    np_args = [to_numpy(x) if is_array(x) else x for x in args]
    np_outs = tuple(to_numpy(o) if is_array(o) else o for o in outs)
    kwargs = {"casting": casting, "out": np_outs}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if where is not True:
        kwargs["where"] = to_numpy(where) if is_array(where) else where
    with fpe.at_caller():
        return uf(*np_args, **kwargs)


class ufunc:
    """An hpcarray ufunc: wraps NumPy's, runs on tiles."""

    def __init__(self, np_ufunc: np.ufunc):
        self._uf = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.__doc__ = np_ufunc.__doc__

    def __getattr__(self, name):
        if name == "_uf":
            raise AttributeError(name)
        return getattr(self._uf, name)

    def __reduce__(self):
        return (ufunc, (self._uf,))

    def __repr__(self) -> str:
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args, **kwargs):
        return apply(self._uf, *args, **kwargs)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False, initial=_NOVALUE,
               where=True):
        from hpcarray._api.reductions import ufunc_reduce

        return ufunc_reduce(self._uf, array, axis, dtype, out, keepdims, initial, where)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        from hpcarray._api.reductions import ufunc_accumulate

        return ufunc_accumulate(self._uf, array, axis, dtype, out)

    def outer(self, A, B, /, **kwargs):
        A, B = operand(A), operand(B)
        a_shape, b_shape = _shape_of(A), _shape_of(B)
        if is_array(A):
            A = A.reshape(a_shape + (1,) * len(b_shape))
        return apply(self._uf, A, B, **kwargs)

    def at(self, a, indices, b=None, /):
        """Unbuffered in-place operation at indices. Across ranks each rank applies it to
        the indexed elements it owns, in index order (the values come with the index)."""
        from hpcarray._api.convert import numpy_args
        from hpcarray._api.elements import coords, push, spread

        args = numpy_args((indices,) if b is None else (indices, b))
        uf = self._uf
        if is_array(a) and spread(a):
            where = coords(a.shape, args[0])  # NumPy's index errors
            values = None if b is None else np.broadcast_to(np.asarray(args[1]),
                                                            where[0].shape)
            push(f"{self.__name__}.at", a, where, values,
                 lambda buf, points, vals: uf.at(buf, *on_device(
                     (points,) if vals is None else (points, vals))))
            return
        ops.update_in_place(a, lambda target: uf.at(target, *on_device(args)))

    def reduceat(self, *args, **kwargs):
        from hpcarray._fallback import call_numpy

        return call_numpy(self._uf.reduceat, f"{self.__name__}.reduceat", args, kwargs)


def all_ufuncs() -> dict[str, ufunc]:
    """Every ufunc in NumPy's namespace, wrapped."""
    out = {}
    for name in dir(np):
        obj = getattr(np, name, None)
        if isinstance(obj, np.ufunc):
            out[name] = ufunc(obj)
    return out


def is_scalar_like(x) -> bool:
    return isinstance(x, (numbers.Number, np.generic))
