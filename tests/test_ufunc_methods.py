# ruff: noqa: B023  (every lambda/closure here is called at once, inside its loop)
"""Ufunc methods (reduce, accumulate, outer, at, reduceat) against NumPy's."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from test_ufuncs import DTYPES, UFUNC_NAMES, arg, check, make, pair  # noqa: F401

import hpcarray as hp

# -- ufunc methods ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "minimum", "logical_and",
                                  "logical_or", "bitwise_xor", "subtract", "fmax", "divide",
                                  "hypot", "arctan2"])
def test_ufunc_reduce(name):
    for dtype in ("bool", "int8", "uint32", "int64", "float32", "float64", "complex64"):
        for shape in [(5, 6), (3, 0), (0,), (2, 3, 4)]:
            x, h = pair(make(dtype, shape, special=False))
            for axis in (0, -1, None, (0, 1) if len(shape) > 1 else 0):
                for keepdims in (False, True):
                    check(lambda m: getattr(m, name).reduce(arg(m, x, h), axis=axis,
                                                            keepdims=keepdims), exact=False)
            check(lambda m: getattr(m, name).reduce(arg(m, x, h), axis=0, initial=3),
                  exact=False)
            check(lambda m: getattr(m, name).reduce(arg(m, x, h), axis=0, dtype="float64"),
                  exact=False)
            check(lambda m: getattr(m, name).reduce(arg(m, x, h)), exact=False)
    x, h = pair(make("float64", (4, 5)))
    w = make("bool", (4, 5), 1)
    check(lambda m: getattr(m, name).reduce(arg(m, x, h), axis=0, where=m.asarray(w),
                                            initial=1.0), exact=False)


@pytest.mark.parametrize("name", ["subtract", "divide", "floor_divide", "fmod", "hypot"])
def test_ordered_reduce_is_numpy_bit_for_bit(name):
    """Order-dependent reductions run tile by tile in NumPy's order: the same bits."""
    for dtype in ("int64", "float32", "float64"):
        if name == "hypot" and dtype == "int64":
            continue
        x, h = pair(np.abs(make(dtype, (37, 23), special=False)) + 1)
        for axis in (0, 1, -1):
            check(lambda m: getattr(m, name).reduce(arg(m, x, h), axis=axis), exact=True)
        check(lambda m: getattr(m, name).reduce(arg(m, x, h), axis=0, keepdims=True,
                                                dtype="float64"), exact=True)

        def into_out(m):
            out = m.zeros(23, "float64")
            getattr(m, name).reduce(arg(m, x, h), axis=0, out=out)
            return out

        check(into_out, exact=True)


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "logical_or", "subtract",
                                  "bitwise_or"])
def test_ufunc_accumulate(name):
    for dtype in ("bool", "int8", "uint32", "int64", "float32", "float64", "complex64"):
        for shape in [(5, 6), (3, 0), (0,), (2, 3, 4), (7,)]:
            x, h = pair(make(dtype, shape, special=False))
            for axis in (0, -1):
                check(lambda m: getattr(m, name).accumulate(arg(m, x, h), axis=axis),
                      exact=False)
            check(lambda m: getattr(m, name).accumulate(arg(m, x, h), dtype="float64"),
                  exact=False)

    def with_out(m):
        out = m.zeros((5, 6))
        r = getattr(m, name).accumulate(m.asarray(make("float64", (5, 6))), axis=1, out=out)
        assert r is out
        return out

    check(with_out)
    check(lambda m: getattr(m, name).accumulate(m.ones(3), axis=1))


@pytest.mark.parametrize("name", ["add", "multiply", "subtract", "less", "divmod", "arctan2",
                                  "power"])
def test_ufunc_outer(name):
    for da, db in [("int8", "float32"), ("float64", "float64"), ("bool", "int64")]:
        for sa, sb in [((3,), (4,)), ((2, 3), (4,)), ((), (3,)), ((0,), (2, 2))]:
            x, h = pair(make(da, sa, 1, special=False))
            y, g = pair(make(db, sb, 2, special=False))
            check(lambda m: getattr(m, name).outer(arg(m, x, h), arg(m, y, g)))
    check(lambda m: getattr(m, name).outer(m.arange(3), [1, 2]))


def test_ufunc_at():
    def fn(m):
        a = m.arange(10.0)
        m.add.at(a, [0, 1, 1, 5], 1)
        m.negative.at(a, [2, 3])
        m.multiply.at(a, m.asarray([4, 4]), m.asarray([2.0, 3.0]))
        b = m.zeros((3, 4), int)
        m.add.at(b, (m.asarray([0, 2, 2]), m.asarray([1, 1, 1])), 5)
        return a, b

    check(fn)


def test_ufunc_reduceat_and_attributes():
    x, h = pair(np.arange(8.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda m: m.add.reduceat(arg(m, x, h), [0, 4, 6]))
    for name in ("add", "sin", "divmod", "frexp"):
        hu, nu = getattr(hp, name), getattr(np, name)
        assert (hu.nin, hu.nout, hu.nargs, hu.identity, hu.signature, hu.types) == \
            (nu.nin, nu.nout, nu.nargs, nu.identity, nu.signature, nu.types)
        assert hu.__name__ == nu.__name__
        assert repr(hu) == repr(nu)
    assert pickle.loads(pickle.dumps(hp.add)) is not None


def test_gufuncs_with_out():
    a, ha = pair(make("float64", (3, 4), special=False))
    b, hb = pair(make("float64", (4, 2), 1, special=False))

    def fn(m):
        out = m.zeros((3, 2))
        r = m.matmul(arg(m, a, ha), arg(m, b, hb), out=out)
        assert r is out
        return out, m.vecdot(arg(m, a, ha), arg(m, a, ha))

    check(fn)
    check(lambda m: m.matmul(arg(m, a, ha), arg(m, a, ha)), message=True)


def test_deferred_value_errors_surface():
    """Errors raised by NumPy inside a kernel reach Python with NumPy's exception type."""
    x, h = pair(np.arange(-3, 3))
    check(lambda m: arg(m, x, h) ** arg(m, x, h))
    check(lambda m: m.power(arg(m, x, h), -1))


