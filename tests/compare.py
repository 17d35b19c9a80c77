"""Differential checks: an hpcarray result against NumPy's for the same call."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import strategies as st

import hpcarray as hp
from hpcarray._api.convert import is_array


@contextmanager
def runtime_with(**changes) -> Iterator[None]:
    """A fresh runtime with these settings changed (Settings fields), the usual one after."""
    from hpcarray.runtime.config import Settings
    from hpcarray.runtime.core import reset_runtime

    reset_runtime(Settings.from_env().replace(**changes))
    try:
        yield
    finally:
        reset_runtime()


def to_np(x):
    """hpcarray arrays (also in tuples/lists) as NumPy arrays; the rest unchanged."""
    if is_array(x):
        return np.asarray(x)
    if isinstance(x, tuple):
        return tuple(to_np(v) for v in x)
    if isinstance(x, list):
        return [to_np(v) for v in x]
    return x


def assert_same(got, expected, *, exact: bool = True, rtol: float = 1e-6, atol: float = 0.0):
    """Same type class (array vs scalar), dtype, shape and values as NumPy's result.

    `exact` compares bit for bit (NaN equal to NaN); otherwise allclose.
    """
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected):
            assert_same(g, e, exact=exact, rtol=rtol, atol=atol)
        return
    if isinstance(expected, np.ndarray):
        assert is_array(got), f"expected an array, got {type(got).__name__}: {got!r}"
        g = np.asarray(got)
    else:
        assert not is_array(got), f"expected a scalar {expected!r}, got an array {got!r}"
        g = np.asarray(got)
        if isinstance(expected, np.generic):
            assert isinstance(got, np.generic), f"expected NumPy scalar, got {type(got)}"
    e = np.asarray(expected)
    assert g.dtype == e.dtype, f"dtype {g.dtype} != numpy's {e.dtype}"
    assert g.shape == e.shape, f"shape {g.shape} != numpy's {e.shape}"
    if exact or e.dtype.kind in "biu":
        np.testing.assert_array_equal(g, e, strict=True)
    else:
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True)


def both(fn, *arrays, **kwargs):
    """Call fn(module, *arrays) with NumPy and with hpcarray on copies of the same data."""
    np_args = [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]
    hp_args = [hp.array(a) if isinstance(a, np.ndarray) else a for a in arrays]
    return fn(hp, *hp_args, **kwargs), fn(np, *np_args, **kwargs), hp_args, np_args


def outcome(fn, module):
    """(result, None) or (None, exception) of fn(module), materializing hpcarray results
    (deferred errors surface at the first sync point)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = fn(module)
            if module is hp:
                to_np(res)
            return res, None
        except Exception as exc:  # noqa: BLE001
            return None, exc

def describe(fn) -> str:
    """The values a failing check's closure captured (dtype, shape, axis, ...)."""
    parts = []
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, np.ndarray):
            v = f"ndarray{v.shape}:{v.dtype}"
        elif callable(v) or hasattr(v, "_v"):
            continue
        parts.append(f"{name}={v!r}")
    return ", ".join(parts)


# Every dtype hpcarray supports, as a list and as a hypothesis strategy.
DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
          np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128]
dtypes = st.sampled_from([np.dtype(d) for d in DTYPES])
DTYPE_NAMES = [np.dtype(d).name for d in DTYPES]  # readable test ids


def agreeing_outcomes(fn, *, message: bool = False):
    """(hpcarray's result, NumPy's result) of fn(module), or None where NumPy raised and
    hpcarray raised the same type (with `message`, the same first line too). Fails where
    only one of them raised."""
    got, gexc = outcome(fn, hp)
    exp, eexc = outcome(fn, np)
    if eexc is not None:
        assert gexc is not None, f"NumPy raised {eexc!r}; hpcarray returned {got!r}"
        assert isinstance(gexc, type(eexc)), f"NumPy raised {eexc!r}; hpcarray {gexc!r}"
        if message:
            assert str(gexc).split("\n")[0] == str(eexc).split("\n")[0]
        return None
    if gexc is not None:
        raise AssertionError(f"hpcarray raised {gexc!r}; NumPy returned {exp!r}") from gexc
    return got, exp


def raises_same(fn_np, fn_hp, exc=Exception):
    """NumPy's call and hpcarray's raise the same exception type with the same message."""
    with pytest.raises(exc) as e_np:
        fn_np()
    with pytest.raises(type(e_np.value)) as e_hp:
        fn_hp()
    assert str(e_hp.value) == str(e_np.value)


__all__ = ["DTYPES", "DTYPE_NAMES", "dtypes", "agreeing_outcomes", "raises_same", "assert_same",
           "both", "describe", "outcome", "runtime_with", "to_np"]
