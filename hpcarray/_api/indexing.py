"""Indexing: basic indexing makes views (no data moves); advanced indexing gathers and
scatters on the synchronized data, with NumPy's own rules and errors."""

from __future__ import annotations

import numbers

import numpy as np

from hpcarray._api.convert import (
    asarray,
    from_numpy,
    is_array,
    numpy_args,
    operand,
    to_numpy,
    wrap,
)
from hpcarray.runtime import get_runtime


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
    res = a._np[key]
    if not isinstance(res, np.ndarray):
        res = a._np[key + (Ellipsis,)]
    return wrap(a._v.index(key), res)


def getitem(a, key):
    key = _as_tuple(key)
    if _is_basic(key):
        view = basic_view(a, key)
        if view.ndim == 0 and Ellipsis not in key and None not in key:
            return to_numpy(view)[()]
        return view
    np_key = numpy_args(key if len(key) != 1 else key[0])
    res = to_numpy(a)[np_key]
    if isinstance(res, np.ndarray):
        return from_numpy(res, copy=True)
    return res


def setitem(a, key, value) -> None:
    if not a._np.flags.writeable:
        raise ValueError("assignment destination is read-only")
    key = _as_tuple(key)
    if _is_basic(key):
        from hpcarray._api.manipulation import assign

        assign(basic_view(a, key), value)
        return
    rt = get_runtime()
    rt.wait(a._v.store)
    np_key = numpy_args(key if len(key) != 1 else key[0])
    a._np[np_key] = numpy_args(value)


def take(a, indices, axis=None, out=None, mode="raise"):
    res = np.take(to_numpy(asarray(a)), numpy_args(indices), axis=axis, mode=mode)
    if not isinstance(res, np.ndarray):
        return res
    res = from_numpy(res)
    if out is not None:
        from hpcarray._api.manipulation import assign

        assign(out, res)
        return out
    return res


def nonzero(a):
    return tuple(from_numpy(i) for i in np.nonzero(to_numpy(asarray(a))))


class FlatIter:
    """`a.flat`: iteration, indexing and assignment in C order."""

    def __init__(self, a):
        self._a = a

    def __len__(self) -> int:
        return self._a.size

    def __iter__(self):
        return iter(to_numpy(self._a).ravel().copy())

    def __getitem__(self, key):
        res = to_numpy(self._a).flat[numpy_args(key)]
        return from_numpy(res) if isinstance(res, np.ndarray) else res

    def __setitem__(self, key, value) -> None:
        get_runtime().wait(self._a._v.store)
        self._a._np.flat[numpy_args(key)] = numpy_args(operand(value)) if is_array(value) \
            else value

    def __array__(self, dtype=None, copy=None):
        return to_numpy(self._a).ravel().astype(dtype) if dtype else to_numpy(self._a).ravel()
