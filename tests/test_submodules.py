# ruff: noqa: B023  (every lambda/closure here is called at once, inside its loop)
"""NumPy's submodules seen through hpcarray (fft, emath, polynomial, lib, ma, char,
strings, testing, rec, matlib, linalg extras): a user's program runs, with NumPy's results
(hpcarray arrays where NumPy gives plain arrays) and one FallbackWarning per function."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
from compare import agreeing_outcomes, assert_same

import hpcarray as hp

X = np.linspace(-1.5, 2.5, 12)


@pytest.fixture
def fresh_warnings(monkeypatch):
    """FallbackWarning comes once per function and session: forget the ones given."""
    from hpcarray import _fallback

    monkeypatch.setattr(_fallback, "_warned", set())


def check(fn, numpy_ok=False):
    """fn(m) against NumPy: hpcarray arrays where NumPy gives plain arrays, NumPy's own
    objects (masked arrays, matrices, strings) otherwise, values alike. `numpy_ok`: the
    methods of NumPy's own objects (a Polynomial's call) give NumPy's arrays."""
    results = agreeing_outcomes(fn, message=True)
    if results is None:
        return
    got, exp = results
    if numpy_ok and type(got) is np.ndarray:
        got = hp.asarray(got)
    if type(exp) is np.ndarray and exp.dtype in hp._dtypes.SUPPORTED_SET:
        assert_same(got, exp, exact=False, rtol=1e-12, atol=1e-12)
    elif isinstance(exp, tuple):
        for g, e in zip(got, exp, strict=True):
            check(lambda m: g if m is hp else e)
    else:
        assert type(got) is type(exp), (type(got), type(exp))
        np.testing.assert_allclose(got, exp) if np.asarray(exp).dtype.kind in "fc" else \
            np.testing.assert_array_equal(got, exp)


def arg(m, x):
    return m.asarray(x) if m is hp else x


_2D = {"fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"}


@pytest.mark.parametrize("name", np.fft.__all__)
def test_fft_namespace(name):
    """Every numpy.fft function (was RecursionError)."""
    if name in ("fftfreq", "rfftfreq"):
        check(lambda m: getattr(m.fft, name)(12, 0.5))
        return
    x = X.reshape(3, 4) if name in _2D else X
    check(lambda m: getattr(m.fft, name)(arg(m, x)))
    check(lambda m: getattr(m.fft, name)(list(x)))  # not an array: still hpcarray's result
    if name not in ("fftshift", "ifftshift"):
        check(lambda m: getattr(m.fft, name)(arg(m, x), norm="ortho"))


def test_issue_fft_of_ones():
    check(lambda m: m.fft.fft(m.ones(8)))
    check(lambda m: m.fft.rfft(m.ones(8)))
    check(lambda m: m.fft.irfft(m.fft.rfft(m.arange(10.0))))


@pytest.mark.parametrize("name", ["sqrt", "log", "log2", "log10", "arccos", "arcsin",
                                  "arctanh"])
def test_emath_takes_complex_where_needed(name):
    """numpy.emath gives complex results outside the real domain (sqrt(-1) was nan)."""
    x = np.array([-4.0, -1.0, -0.5, 0.25, 0.5, 2.0, 4.0])
    check(lambda m: getattr(m.emath, name)(arg(m, x)))
    check(lambda m: getattr(m.emath, name)(arg(m, np.abs(x[3:5]))))  # real stays real
    check(lambda m: getattr(m.emath, name)(-2.0))


def test_emath_logn_and_power():
    x = np.array([-8.0, -2.0, 2.0, 8.0])
    check(lambda m: m.emath.logn(2, arg(m, x)))
    check(lambda m: m.emath.logn(arg(m, x), 4))
    check(lambda m: m.emath.power(arg(m, x), 0.5))
    check(lambda m: m.emath.power(arg(m, x), arg(m, np.array([2, 3, 0.5, 1]))))


def test_issue_emath_sqrt():
    check(lambda m: m.emath.sqrt(m.array([-1.0])))


def test_numpys_own_namespace_given_hpcarray_arrays():
    """numpy.fft.fft(hpcarray array) dispatches to the fallback, not to itself; numpy's
    emath.sqrt is not numpy.sqrt."""
    h = hp.asarray(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hp.FallbackWarning)
        assert_same(np.fft.fft(h), np.fft.fft(X), exact=False)
        assert_same(np.emath.sqrt(h), np.emath.sqrt(X), exact=False)
        assert_same(np.polynomial.polynomial.polyval(h, [1, 2]),
                    np.polynomial.polynomial.polyval(X, [1, 2]), exact=False)
    assert_same(np.sqrt(h * h), np.sqrt(X * X), exact=False)  # still hpcarray's own ufunc
    assert_same(np.sum(h), np.sum(X), exact=False)


def test_one_warning_per_function(fresh_warnings):
    with pytest.warns(hp.FallbackWarning, match=r"numpy\.fft\.fft;.*test_submodules"):
        hp.fft.fft(hp.ones(4))
    with pytest.warns(hp.FallbackWarning, match=r"numpy\.emath\.sqrt"):
        hp.emath.sqrt(hp.ones(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", hp.FallbackWarning)
        hp.fft.fft(hp.ones(4))
        hp.emath.sqrt(hp.ones(4))


def test_submodules_import_as_numpys():
    from hpcarray.fft import rfft

    assert_same(rfft(hp.ones(4)), np.fft.rfft(np.ones(4)))
    st = importlib.import_module("hpcarray.lib.stride_tricks")
    assert st is hp.lib.stride_tricks
    assert hp.fft is importlib.import_module("hpcarray.fft")
    assert "fft" in dir(hp.fft) and "polyval" in dir(hp.polynomial.polynomial)
    namespace: dict = {}
    exec("from hpcarray.fft import *", namespace)
    assert set(np.fft.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="module 'hpcarray.fft' has no attribute 'nope'"):
        hp.fft.nope  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hpcarray.nope")
    assert hp.linalg is importlib.import_module("hpcarray.linalg")  # hpcarray's own
    assert hp.ma.MaskedArray is np.ma.MaskedArray and hp.emath.__name__ == "hpcarray.emath"


def test_polynomial_and_lib():
    check(lambda m: m.polynomial.polynomial.polyval(arg(m, X), m.array([1.0, 2, 3])))
    check(lambda m: m.polynomial.Polynomial(m.array([1.0, 2, 3]))(arg(m, X)), numpy_ok=True)
    check(lambda m: m.polynomial.Chebyshev.fit(arg(m, X), arg(m, X) ** 2, 2).coef,
          numpy_ok=True)
    check(lambda m: m.polynomial.hermite.hermval(arg(m, X), [1.0, 0.5]))
    check(lambda m: m.polyfit(arg(m, X), arg(m, X) ** 2, 2))
    check(lambda m: m.lib.stride_tricks.sliding_window_view(arg(m, X), 3))
    check(lambda m: m.lib.scimath.sqrt(arg(m, X)))
    check(lambda m: m.lib.NumpyVersion("2.0.0") > "1.9.0")


def test_masked_arrays_keep_their_mask():
    check(lambda m: m.ma.masked_invalid(m.log(arg(m, X))).mean())
    check(lambda m: m.ma.masked_array(arg(m, X), mask=arg(m, X) > 1).sum())
    check(lambda m: m.ma.masked_greater(arg(m, X), 1).filled(0), numpy_ok=True)
    check(lambda m: m.ma.masked_greater(arg(m, X), 1).mask, numpy_ok=True)
    check(lambda m: m.matlib.zeros((2, 2)))  # a matrix stays one
    check(lambda m: m.rec.fromarrays([m.arange(3), m.arange(3.0)]).f1, numpy_ok=True)


def test_strings():
    check(lambda m: m.char.upper(m.array(["ab", "c"])))
    check(lambda m: m.strings.add(m.array(["a"]), "b"))
    check(lambda m: m.strings.str_len(m.array(["abc", ""])))
    check(lambda m: m.char.count(m.array(["aab", "b"]), "a"))


def test_testing():
    h = hp.asarray(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hp.FallbackWarning)
        hp.testing.assert_allclose(h, X)
        hp.testing.assert_array_equal(h, X)
        np.testing.assert_allclose(h, X)
        with pytest.raises(AssertionError):
            hp.testing.assert_allclose(h, X + 1)
        with hp.testing.assert_raises(ZeroDivisionError):
            1 / 0  # noqa: B018


@pytest.mark.parametrize("name", ["cross", "diagonal", "matrix_transpose", "vecdot",
                                  "svdvals", "outer", "trace", "tensorinv", "cond",
                                  "matrix_rank", "multi_dot"])
def test_linalg_extras(name):
    a = np.arange(9.0).reshape(3, 3) + 3 * np.eye(3)
    calls = {
        "cross": lambda m: m.linalg.cross(arg(m, a), arg(m, a[::-1])),
        "vecdot": lambda m: m.linalg.vecdot(arg(m, a), arg(m, a)),
        "outer": lambda m: m.linalg.outer(arg(m, X), arg(m, X)),
        "tensorinv": lambda m: m.linalg.tensorinv(arg(m, a), ind=1),
        "multi_dot": lambda m: m.linalg.multi_dot([arg(m, a), arg(m, a), arg(m, a)]),
    }
    check(calls.get(name, lambda m: getattr(m.linalg, name)(arg(m, a))))
