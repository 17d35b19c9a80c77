"""NumPy functions hpcarray does not implement yet still work: the arguments are gathered,
NumPy runs, the results come back as hpcarray arrays, and a FallbackWarning says so once
per function, naming the user's line."""

from __future__ import annotations

import functools
import warnings

import numpy as np

from hpcarray._api.convert import (
    from_numpy,
    hpc_results,
    is_array,
    numpy_args,
    to_numpy,
    writeable,
)
from hpcarray._dtypes import UnsupportedDtype
from hpcarray.runtime.trace import user_source_line


class FallbackWarning(UserWarning):
    """An hpcarray function ran through NumPy on gathered data (correct, not distributed)."""


_warned: set[str] = set()


def warn_fallback(name: str) -> None:
    if name in _warned:
        return
    _warned.add(name)
    where = user_source_line()
    warnings.warn(
        f"hpcarray has no distributed implementation of numpy.{name}; it ran through NumPy "
        f"on gathered data (called at {where})",
        FallbackWarning,
        stacklevel=4,
    )


def call_numpy(func, name: str, args, kwargs):
    """Run a NumPy function on gathered arguments and wrap its results. An hpcarray
    `out=` gets NumPy's result through a host copy (of its writeable flag too: NumPy's
    checks): gathered data, or device data, is not the array's memory."""
    warn_fallback(name)
    out = kwargs.get("out")
    if not is_array(out):
        return hpc_results(func(*numpy_args(args), **numpy_args(kwargs)))
    np_out = to_numpy(out).copy()
    np_out.flags.writeable = writeable(out)
    res = func(*numpy_args(args), **numpy_args(kwargs | {"out": np_out}))
    from hpcarray._api.manipulation import assign

    assign(out, np_out)
    return out if res is np_out else hpc_results(res)


def fallback_function(func, name: str):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return call_numpy(func, name, args, kwargs)

    wrapper.__hpcarray_fallback__ = True
    return wrapper


def numpy_if_not_held(func, name: str | None = None):
    """`func`, the hpcarray version of NumPy's function `name`; where its data or dtype is
    one hpcarray does not hold (strings, datetimes, objects), NumPy's function runs
    instead and its array is the result, with the fallback's warning. (Not where an
    hpcarray `out=` would receive the result: NumPy would write a gathered copy.)"""
    import numpy as np

    name = name or func.__name__
    np_func = getattr(np, name)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except UnsupportedDtype:
            if kwargs.get("out") is not None:
                raise
            return call_numpy(np_func, name, args, kwargs)

    return wrapper


# Functions that write into an argument: NumPy would write into a gathered copy.
_WRITES_ARGUMENTS = frozenset(["copyto", "put", "place", "putmask", "fill_diagonal",
                               "put_along_axis"])


def numpy_for_data_not_held(namespace: dict, skip=frozenset()) -> None:
    """Wrap the public functions of `namespace` (hpcarray's) with numpy_if_not_held, all
    but those in `skip` and those that write into their arguments."""
    import types

    import numpy as np

    for name, func in list(namespace.items()):
        if (isinstance(func, types.FunctionType) and not name.startswith("_")
                and func.__module__.startswith("hpcarray._api.") and hasattr(np, name)
                and not hasattr(func, "__wrapped__")
                and name not in skip and name not in _WRITES_ARGUMENTS):
            namespace[name] = numpy_if_not_held(func, name)


def inplace_numpy(a, fn) -> None:
    """Run `fn` on the array's synchronized NumPy data in place (sort, put): device data
    goes through a host copy (NumPy's functions take host arrays only)."""
    from hpcarray._api.ops import update_in_place
    from hpcarray.runtime import get_runtime

    backend = get_runtime().backend

    def on_host(data) -> None:
        host = backend.to_host(data)
        fn(host)
        if host is not data:
            data[...] = backend.from_host(host)

    update_in_place(a, on_host)


def _lookup(func):
    """The hpcarray implementation of a NumPy function, if there is a native one: the
    function of the same name in the hpcarray module mirroring the NumPy module that
    exports `func` itself (numpy.emath.sqrt is not numpy.sqrt; numpy.fft, which hpcarray
    passes through, has none)."""
    import hpcarray

    name = getattr(func, "__name__", "")
    for np_module, module in ((np, hpcarray), (np.linalg, hpcarray.linalg),
                              (np.random, hpcarray.random)):
        if getattr(np_module, name, None) is func:
            impl = vars(module).get(name)  # its own names: __getattr__ gives fallbacks
            if impl is not None and not getattr(impl, "__hpcarray_fallback__", False):
                return impl
    return None


def array_function(func, args, kwargs):
    impl = _lookup(func)
    if impl is not None:
        return impl(*args, **kwargs)
    return call_numpy(getattr(func, "_implementation", func), func.__name__, args, kwargs)


def array_ufunc(uf, method, inputs, kwargs):
    from hpcarray._api.ufuncs import ufunc

    wrapped = ufunc(uf)
    if method == "__call__":
        return wrapped(*inputs, **kwargs)
    if method in ("reduce", "accumulate", "outer", "at"):
        return getattr(wrapped, method)(*inputs, **kwargs)
    return call_numpy(getattr(uf, method), f"{uf.__name__}.{method}", inputs, kwargs)


__all__ = ["FallbackWarning", "call_numpy", "fallback_function", "to_numpy", "is_array",
           "from_numpy"]
