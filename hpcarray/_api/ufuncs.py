"""Universal functions: every NumPy ufunc, as tile tasks.

Result dtypes, casting rules and NumPy's errors come from NumPy itself: the call is first
made on empty stand-ins of the operands (the "probe"), which is cheap and exact (NEP 50
promotion included). Then the real call runs per output tile.
"""

from __future__ import annotations

import numbers

import numpy as np

from hpcarray._api.convert import is_array, new_array, operand, to_numpy, wrap
from hpcarray.runtime import ops

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
        listed = " ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"operands could not be broadcast together with shapes {listed} ")\
            from None


def _shape_of(x) -> tuple[int, ...]:
    return x.shape if is_array(x) or isinstance(x, np.generic) else ()


def _normalize_out(uf, args, out):
    if len(args) > uf.nin:
        if out is not None:
            raise TypeError("cannot specify 'out' as both a positional and keyword argument")
        out = args[uf.nin:]
        args = args[:uf.nin]
    if len(args) < uf.nin:
        raise TypeError(
            f"{uf.__name__}() takes from {uf.nin} to {uf.nin + uf.nout} positional arguments "
            f"but {len(args)} were given"
        )
    if out is None:
        out = (None,) * uf.nout
    elif not isinstance(out, tuple):
        out = (out,)
    if len(out) != uf.nout:
        raise ValueError(f"The 'out' tuple must have exactly {uf.nout} entries: one per ufunc output")
    return args, out


def apply(uf, *args, out=None, where=True, casting="same_kind", order="K", dtype=None,
          subok=True, signature=None):
    """Call NumPy ufunc `uf` on hpcarray operands, tile by tile."""
    args, outs = _normalize_out(uf, args, out)
    if any(isinstance(o, np.ndarray) for o in outs):
        return _on_numpy(uf, args, outs, where, casting, dtype)
    args = [operand(x) for x in args]
    outs = [operand(o) if o is not None else None for o in outs]
    where_given = where is not True
    if where_given:
        where = operand(where)
    if dtype is None and signature is not None:
        dtype = signature if not isinstance(signature, tuple) else signature[-1]
    out_dtypes = result_dtypes(uf, args, outs, dtype, casting, where_given)
    shapes = [_shape_of(x) for x in args]
    if where_given:
        shapes.append(_shape_of(where))
    shape = broadcast_shape(shapes)
    for o in outs:
        if o is not None and o.shape != shape:
            if np.broadcast_shapes(o.shape, shape) != o.shape:
                raise ValueError(
                    f"non-broadcastable output operand with shape {o.shape} doesn't match "
                    f"the broadcast shape {shape}"
                )
            shape = o.shape
        if o is not None and not o._np.flags.writeable:
            raise ValueError("output array is read-only")
    if shape == () and all(o is None for o in outs):
        return _scalar_call(uf, args, where, casting, dtype)
    results = [o if o is not None else new_array(shape, dt) for o, dt in zip(outs, out_dtypes)]
    kwargs = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = dtype
    ins = list(args) + ([where] if where_given else [])
    nin = uf.nin

    if where_given:
        def kernel(out_tiles, in_tiles):
            uf(*in_tiles[:nin], out=tuple(out_tiles), where=in_tiles[nin], **kwargs)
    else:
        def kernel(out_tiles, in_tiles):
            uf(*in_tiles, out=tuple(out_tiles), **kwargs)

    ops.elementwise(uf.__name__, kernel, results, ins, copy_aliased=lambda x: x.copy())
    return results[0] if len(results) == 1 else tuple(results)


def _scalar_call(uf, args, where, casting, dtype):
    """0-d results are NumPy scalars, as in NumPy."""
    np_args = [to_numpy(x) if is_array(x) else x for x in args]
    kwargs = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if where is not True:
        kwargs["where"] = to_numpy(where) if is_array(where) else where
    return uf(*np_args, **kwargs)


def _on_numpy(uf, args, outs, where, casting, dtype):
    """An `out=` that is a NumPy array: compute with NumPy into it."""
    np_args = [to_numpy(x) if is_array(x) else x for x in args]
    np_outs = tuple(to_numpy(o) if is_array(o) else o for o in outs)
    kwargs = {"casting": casting, "out": np_outs}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if where is not True:
        kwargs["where"] = to_numpy(where) if is_array(where) else where
    return uf(*np_args, **kwargs)


class ufunc:
    """An hpcarray ufunc: wraps NumPy's, runs on tiles."""

    def __init__(self, np_ufunc: np.ufunc):
        self._uf = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.__doc__ = np_ufunc.__doc__

    def __getattr__(self, name):
        return getattr(self._uf, name)

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
        """Unbuffered in-place operation at indices (runs on the gathered data)."""
        from hpcarray._api.convert import numpy_args

        target = to_numpy(a)
        get_ins = numpy_args((indices,) if b is None else (indices, b))
        self._uf.at(target, *get_ins)

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
