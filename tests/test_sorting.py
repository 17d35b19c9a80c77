# ruff: noqa: B023  (every lambda here is called at once, inside its loop)
"""Differential tests: sort and argsort against NumPy (values and indices exactly), on
tiles that hold whole lanes, on tilings that split the sorted axis, and on views."""

from __future__ import annotations

import numpy as np
import pytest
from compare import DTYPE_NAMES, agreeing_outcomes, assert_same, describe
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import hpcarray as hp


def make(dtype, shape, seed=0):
    """Few distinct values (ties decide argsort's order), NaN and signed zeros in floats."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, size=shape)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(x > 0)
    if dt.kind == "u":
        return np.abs(x).astype(dt)
    out = np.asarray(x).astype(dt)
    if dt.kind in "fc" and out.size >= 3:
        flat = out.reshape(-1)
        flat[1] = np.nan
        flat[2] = -0.0
    return out


def check(fn):
    pair = agreeing_outcomes(fn, message=True)
    if pair is not None:
        got, exp = pair
        try:
            assert_same(got, exp)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{describe(fn)}") from None


@given(
    shape=array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9),
    dtype=st.sampled_from(DTYPE_NAMES),
    name=st.sampled_from(["sort", "argsort"]),
    kind=st.sampled_from([None, "stable", "quicksort", "heapsort"]),
    data=st.data(),
)
def test_sort_and_argsort(shape, dtype, name, kind, data):
    x = make(dtype, shape, seed=len(shape))
    h = hp.array(x)
    nd = len(shape)
    axis = data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1)) if nd else st.none())
    check(lambda m: getattr(m, name)(x if m is np else h, axis=axis, kind=kind))


@pytest.mark.parametrize("shape", [(40,), (13, 17), (6, 5, 9)])
def test_sort_in_place_and_methods(shape):
    x = make("float64", shape)
    for axis in range(-len(shape), len(shape)):
        a, h = x.copy(), hp.array(x)
        a.sort(axis=axis)
        h.sort(axis=axis)
        assert_same(h, a)
        check(lambda m: (x if m is np else hp.array(x)).argsort(axis=axis, kind="stable"))


def test_sort_views():
    x = make("int64", (12, 10), seed=3)
    h = hp.array(x)
    for view in (lambda a: a.T, lambda a: a[1:11:2, ::-3], lambda a: a[None, 2:, 3]):
        check(lambda m: m.sort(view(x if m is np else h), axis=-1))
        check(lambda m: m.argsort(view(x if m is np else h), axis=0, stable=True))
    # Sorting a view in place writes through to its base.
    a, b = x.copy(), hp.array(x)
    a[::2, 1:].sort(axis=0)
    b[::2, 1:].sort(axis=0)
    assert_same(b, a)


def test_sort_errors():
    for fn in (lambda m: m.sort(m.ones((2, 2)), axis=2),
               lambda m: m.sort(m.ones(3), kind="nope"),
               lambda m: m.ones((2, 2)).sort(axis=None),
               lambda m: m.sort(m.asarray(1.0)),
               lambda m: m.argsort(m.ones(3), kind="stable", stable=True)):
        assert agreeing_outcomes(fn, message=True) is None


def test_large_sorts_split_and_whole_lanes():
    """Above the partitioning threshold: along a split axis (exchange into whole lanes),
    along an unsplit one (tile by tile), and 1-D."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 200))
    h = hp.asarray(x)
    for axis in (0, 1, None):
        assert_same(hp.sort(h, axis=axis), np.sort(x, axis=axis))
        assert_same(hp.argsort(h, axis=axis, stable=True), np.argsort(x, axis=axis,
                                                                      stable=True))
