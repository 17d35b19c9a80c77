"""NumPy's own functions called on hpcarray arrays (__array_function__): a function of a
module hpcarray mirrors runs hpcarray's implementation of that very function; any other
(numpy.emath, numpy.fft) runs through NumPy with a FallbackWarning, giving NumPy's values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hpcarray as hp
from hpcarray import FallbackWarning, _fallback


@pytest.fixture(autouse=True)
def _warn_again(monkeypatch):
    """FallbackWarning comes once per function and process: forget earlier tests' ones."""
    monkeypatch.setattr(_fallback, "_warned", set())


def _calls(f, *args):
    """f's result and the warning categories raised while computing it."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = f(*args)
    return res, {w.category for w in seen}


@pytest.mark.parametrize("f", [np.emath.sqrt, np.emath.log, np.emath.arcsin, np.emath.power])
def test_emath_is_not_the_real_ufunc(f):
    # numpy.emath.sqrt(-1) is 1j; hpcarray.sqrt (numpy.sqrt's implementation) gives nan.
    x = np.array([-4.0, -1.0, 0.5, 9.0])
    args = (x, 2) if f is np.emath.power else (x,)
    res, cats = _calls(f, hp.asarray(x), *args[1:])
    np.testing.assert_array_equal(np.asarray(res), f(*args))
    assert FallbackWarning in cats


@pytest.mark.parametrize("f", [np.fft.fft, np.fft.rfft, np.fft.fftshift, hp.fft.ifft])
def test_fft_runs_through_numpy(f):
    # Before: numpy.fft's function was taken as its own hpcarray implementation and called
    # itself through __array_function__ until RecursionError.
    x = np.arange(12.0).reshape(3, 4)
    res, cats = _calls(f, hp.asarray(x))
    np.testing.assert_array_equal(np.asarray(res), f(x))
    assert FallbackWarning in cats


@pytest.mark.parametrize("f", [np.sum, np.concatenate, np.linalg.outer, np.linalg.norm])
def test_mirrored_functions_run_natively(f):
    x = np.arange(6.0)
    arg = [x, x] if f is np.concatenate else x
    args = (arg, x) if f is np.linalg.outer else (arg,)
    hp_args = tuple([hp.asarray(a) for a in v] if isinstance(v, list) else hp.asarray(v)
                    for v in args)
    res, cats = _calls(f, *hp_args)
    np.testing.assert_array_equal(np.asarray(res), f(*args))
    assert FallbackWarning not in cats
