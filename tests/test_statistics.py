"""Differential tests: median against NumPy (bit for bit: the same middle elements,
averaged as NumPy averages them; NaN lanes give NaN), on tiny tiles and at several ranks
(tests/mpi runs this file too), and pad's median mode that builds on it."""

from __future__ import annotations

import numpy as np
from compare import agreeing_outcomes, assert_same
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import hpcarray as hp

DTYPES = ["int64", "int16", "uint8", "float64", "float32", "float16"]


def make(dtype, shape, seed, nan):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 50, size=shape).astype(dtype)
    if nan and x.dtype.kind == "f" and x.size:
        x.reshape(-1)[rng.integers(0, x.size)] = np.nan
    return x


def check(fn):
    pair = agreeing_outcomes(fn, message=True)
    if pair is not None:
        assert_same(*pair)


@given(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=7),
       st.sampled_from(DTYPES), st.integers(0, 99), st.booleans(), st.data())
def test_median(shape, dtype, seed, nan, data):
    a = make(dtype, shape, seed, nan)
    h = hp.array(a)
    axis = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1))) if a.ndim \
        else None
    keepdims = data.draw(st.booleans())
    check(lambda m: m.median(h if m is hp else a, axis=axis, keepdims=keepdims))


def test_median_rare_arguments():
    a = make("float64", (4, 5, 3), 1, False)
    h = hp.array(a)
    for kw in ({"axis": (0, 2)}, {"axis": 3}, {"axis": (1, 1)}, {"axis": -1}):
        check(lambda m, kw=kw: m.median(h if m is hp else a, **kw))
    check(lambda m: m.median(hp.array(np.arange(0.0)) if m is hp else np.arange(0.0)))


@given(array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6), st.integers(0, 99),
       st.sampled_from(["float64", "int32"]), st.data())
def test_pad_median(shape, seed, dtype, data):
    a = make(dtype, shape, seed, False)
    width = data.draw(st.integers(0, 4))
    length = data.draw(st.one_of(st.none(), st.integers(1, 5)))
    check(lambda m: m.pad(hp.array(a) if m is hp else a, width, mode="median",
                          stat_length=length))
