"""Module-level attribute lookup: what hpcarray implements natively, what falls back to
NumPy with a warning, and what is NumPy's own (constants, dtypes, scalar types)."""

from __future__ import annotations

import types

import numpy as np

from hpcarray._fallback import fallback_function

_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, type(np.concatenate))


def numpy_attribute(np_module, name: str, qualname: str):
    """`name` from a NumPy module: functions wrapped as fallbacks, the rest as they are."""
    try:
        obj = getattr(np_module, name)
    except AttributeError:
        raise AttributeError(f"module 'hpcarray' has no attribute {qualname!r}") from None
    if isinstance(obj, _FUNCTION_TYPES) and not isinstance(obj, type):
        return fallback_function(obj, qualname)
    return obj


def module_getattr(np_module, prefix: str, cache: dict):
    """A module `__getattr__` that falls back to `np_module`, caching what it made."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return cache[name]
        except KeyError:
            value = numpy_attribute(np_module, name, f"{prefix}{name}")
            cache[name] = value
            return value

    return __getattr__
