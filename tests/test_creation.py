# ruff: noqa: B023  (every lambda/closure here is called at once, inside its loop)
"""Differential tests: array creation against NumPy (values, dtype, shape, errors)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from compare import DTYPE_NAMES, agreeing_outcomes, assert_same
from hypothesis import given
from hypothesis import strategies as st

import hpcarray as hp

DTYPES = DTYPE_NAMES



def check(fn, *, exact=True, values=True):
    results = agreeing_outcomes(fn)
    if results is None:
        return None
    got, exp = results
    if not values:  # np.empty: only dtype and shape are defined
        assert hp.ndarray is type(got) and got.dtype == exp.dtype and got.shape == exp.shape
        return got
    if isinstance(exp, list):  # meshgrid(sparse=True, copy=False) gives a list
        assert type(got) is list
        got, exp = tuple(got), tuple(exp)
    assert_same(got, exp, exact=exact)
    return got


# -- from data ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    [1, 2, 3], [[1.5, 2], [3, 4]], [True, False], [1, 2.0, 3j], 5, 2.5, True, [],
    [[]], [[1], [2]], (1, 2), [(1, 2), (3, 4)], np.float32(3), [np.int8(1), 300],
    [2**63], [-1, 2**63 - 1], [[1, 2], [3]],
])
def test_array_from_data(data):
    check(lambda m: m.array(data))
    check(lambda m: m.asarray(data))
    for dtype in (None, "float32", "int16", "complex128", "bool", "uint8"):
        check(lambda m: m.array(data, dtype=dtype))
        check(lambda m: m.asarray(data, dtype=dtype))
    for ndmin in (0, 1, 3):
        check(lambda m: m.array(data, ndmin=ndmin))


@pytest.fixture
def fresh_warnings(monkeypatch):
    """FallbackWarning comes once per function and session: forget the ones given."""
    from hpcarray import _fallback

    monkeypatch.setattr(_fallback, "_warned", set())


# Arrays of dtypes hpcarray does not hold, made as a user would.
NOT_HELD = {
    "str": lambda m: m.array(["a", "bcd"]),
    "str scalar": lambda m: m.array("abc"),
    "mixed": lambda m: m.array([1, "a"]),
    "None": lambda m: m.array([None]),
    "object": lambda m: m.array([1, None, 2.5], dtype=object),
    "numpy str": lambda m: m.asarray(np.array(["x"])),
    "zeros U3": lambda m: m.zeros(3, "U3"),
    "ones object": lambda m: m.ones((2, 2), dtype=object),
    "empty M8": lambda m: m.empty(2, "M8[s]").shape,  # (values undefined)
    "full str": lambda m: m.full(2, "xy"),
    "full object": lambda m: m.full(3, None),
    "zeros_like str": lambda m: m.zeros_like(np.array(["ab", "c"])),
    "full_like M8": lambda m: m.full_like(np.zeros(2, "M8[D]"), "2021-03-04"),
    "datetimes": lambda m: m.array([np.datetime64("2020-01-01"), np.datetime64("2020-02-01")]),
    "datetime strings": lambda m: m.array(["2020-01-01", "2020-01-03"], dtype="datetime64[D]"),
    "timedelta": lambda m: m.array([1, 2], dtype="m8[s]"),
    "arange M8": lambda m: m.arange("2020-01", "2020-04", dtype="M8[M]"),
    "arange m8": lambda m: m.arange(np.timedelta64(0, "h"), np.timedelta64(5, "h")),
    "linspace object": lambda m: m.linspace(0, 1, 3, dtype=object),
    "eye object": lambda m: m.eye(2, dtype=object),
    "hpcarray to object": lambda m: m.array(m.arange(3), dtype=object),
    "astype str": lambda m: m.arange(3).astype("U2"),
    "structured": lambda m: m.zeros(2, dtype=[("a", "i4"), ("b", "f8")]),
}


@pytest.mark.parametrize("name", list(NOT_HELD))
def test_dtypes_not_held_are_numpy_arrays(name, fresh_warnings):
    """Strings, datetimes, objects: NumPy's own arrays (were TypeError), with one
    FallbackWarning."""
    fn = NOT_HELD[name]
    with pytest.warns(hp.FallbackWarning) as record:
        got = fn(hp)
    assert len([w for w in record if w.category is hp.FallbackWarning]) == 1
    exp = fn(np)
    assert type(got) is type(exp)
    if isinstance(exp, np.ndarray):
        assert got.dtype == exp.dtype
        np.testing.assert_array_equal(got, exp, strict=True)
    else:
        assert got == exp


def test_not_held_warns_once_per_function(fresh_warnings):
    with pytest.warns(hp.FallbackWarning, match="numpy.zeros"):
        hp.zeros(2, "U1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", hp.FallbackWarning)
        hp.zeros(3, "U2")


# Operations mixing hpcarray arrays and NumPy's arrays of dtypes hpcarray does not hold.
MIXED = {
    "datetime + int": lambda m, h, s, d: d + h,
    "int + datetime": lambda m, h, s, d: h + d,
    "add(datetime, int)": lambda m, h, s, d: m.add(d, h),
    "datetime - datetime": lambda m, h, s, d: d - d,
    "datetime > scalar": lambda m, h, s, d: d > np.datetime64("2020-01-01"),
    "int + datetime scalar": lambda m, h, s, d: h + np.datetime64("2020-01-01", "D"),
    "str == int": lambda m, h, s, d: s == h,
    "int == str": lambda m, h, s, d: h == s,
    "int != str": lambda m, h, s, d: h != s,
    "int + str": lambda m, h, s, d: h + s,
    "object + int": lambda m, h, s, d: m.array([1, None], dtype=object)[:1] + h[:1],
    "int * object": lambda m, h, s, d: h * m.array([2, 3], dtype=object),
    "concatenate str": lambda m, h, s, d: m.concatenate([s, m.array(["c"])]),
    "where str": lambda m, h, s, d: m.where(h > 0, s, "z"),
    "stack datetime": lambda m, h, s, d: m.stack([d, d]),
    "sum object": lambda m, h, s, d: m.sum(m.array([1, 2.5], dtype=object)),
    "max datetime": lambda m, h, s, d: m.max(d),
    "mean timedelta": lambda m, h, s, d: m.mean(d - d[0]),
    "cumsum object": lambda m, h, s, d: m.cumsum(m.array([1, 2], dtype=object)),
    "sort str": lambda m, h, s, d: m.sort(m.array(["b", "a"])),
    "diff datetime": lambda m, h, s, d: m.diff(d),
    "index with datetimes": lambda m, h, s, d: h[d > np.datetime64("2020-01-01")],
    "take datetime": lambda m, h, s, d: m.take(d, h),
}


@pytest.mark.parametrize("name", list(MIXED))
def test_operations_mixing_not_held_arrays(name):
    fn = MIXED[name]

    def run(m):
        h = m.arange(2)
        s = m.array(["a", "bb"])
        d = m.arange("2020-01-01", "2020-01-03", dtype="M8[D]")
        return fn(m, h, s, d)

    results = agreeing_outcomes(run, message=True)
    if results is None:
        return
    got, exp = results
    if isinstance(exp, np.ndarray) and exp.dtype in hp._dtypes.SUPPORTED_SET:
        # (hpcarray's, or NumPy's where NumPy's own operator answered: s == h)
        assert isinstance(got, (hp.ndarray, np.ndarray))
        got = np.asarray(got)
    assert type(got) is type(exp)
    np.testing.assert_array_equal(got, exp, strict=True)


def test_array_from_arrays():
    for dtype in DTYPES:
        x = np.arange(12).reshape(3, 4).astype(dtype)
        check(lambda m: m.array(m.asarray(x)))
        check(lambda m: m.array(x))
        check(lambda m: m.asarray(x))
        check(lambda m: m.array(x, dtype="float64"))
        check(lambda m: m.array(m.asarray(x), ndmin=4))
        check(lambda m: m.array(x[::2, ::-1]))
        check(lambda m: m.array(x.T))
    # Nested lists with hpcarray elements.
    check(lambda m: m.array([m.arange(3), m.arange(3) * 2]))
    check(lambda m: m.array([[m.asarray(1.5), 2], [3, m.float32(4)]]))
    check(lambda m: m.asarray((m.ones(2), [5, 6])))
    check(lambda m: m.array([m.arange(3), m.arange(4)]))
    check(lambda m: m.array(m.arange(3)[1]))


def test_array_copy_semantics():
    h = hp.arange(5)
    assert hp.asarray(h) is h
    assert hp.array(h, copy=False) is h
    c = hp.array(h)
    c[0] = 100
    assert int(h[0]) == 0
    c2 = hp.asarray(h, copy=True)
    c2[1] = 100
    assert int(h[1]) == 1
    c3 = hp.array(h, dtype=float)
    assert c3.dtype == np.float64
    x = np.arange(5)
    a = hp.asarray(x)
    x[0] = 42  # hpcarray holds its own copy of the data
    assert int(a[0]) == 0
    check(lambda m: m.array([1, 2], copy=False))
    check(lambda m: m.asarray([1, 2], copy=False))
    check(lambda m: m.array(m.asarray(x), copy=False, dtype="float32"))
    for fn in (hp.asanyarray, hp.ascontiguousarray):
        assert_same(fn([[1, 2], [3, 4]]), np.asarray([[1, 2], [3, 4]]))
    assert hp.asanyarray(h) is h


# -- from shape and value -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_zeros_ones_empty(name):
    for shape in (3, (2, 3), (), (0,), (4, 0, 2), [2, 2], np.int64(3), (2, 1, 3, 1)):
        for dtype in [None] + DTYPES:
            kw = {} if dtype is None else {"dtype": dtype}
            check(lambda m: getattr(m, name)(shape, **kw), values=name != "empty")
    for bad in ((-1,), (2, -3), 2.5, "a", (2.0,)):
        check(lambda m: getattr(m, name)(bad))
    check(lambda m: getattr(m, name)(3, dtype=int))
    check(lambda m: getattr(m, name)(3, dtype=complex))
    check(lambda m: getattr(m, name)(3, dtype="f4"))


def test_full():
    for value in (0, 1, -1, 2.5, True, 1 + 2j, np.nan, np.float32(1.5), np.int8(3), 300,
                  2**63, np.inf, [1, 2, 3]):
        for dtype in (None, "int8", "uint8", "float32", "complex64", "bool", "float16"):
            check(lambda m: m.full((2, 3), value, dtype=dtype))
    check(lambda m: m.full((3, 2), m.arange(2)))
    check(lambda m: m.full((3,), m.asarray(7.5)))
    check(lambda m: m.full((), 4))
    check(lambda m: m.full(0, 4))
    check(lambda m: m.full((2, 3), [1, 2]))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "full_like"])
def test_like(name):
    for dtype in DTYPES:
        x = np.arange(6).reshape(2, 3).astype(dtype)
        args = (7,) if name == "full_like" else ()
        for src in (lambda m: m.asarray(x), lambda m: x, lambda m: x.tolist(),
                    lambda m: m.asarray(x)[:, ::2], lambda m: m.asarray(x).T):
            check(lambda m: getattr(m, name)(src(m), *args), values=name != "empty_like")
            check(lambda m: getattr(m, name)(src(m), *args, dtype="float32"),
                  values=name != "empty_like")
            check(lambda m: getattr(m, name)(src(m), *args, shape=(4,)),
                  values=name != "empty_like")
            check(lambda m: getattr(m, name)(src(m), *args, shape=5, dtype=int),
                  values=name != "empty_like")
    check(lambda m: getattr(m, name)(3.0, *((1.5,) if name == "full_like" else ())),
          values=name != "empty_like")
    if name == "full_like":
        check(lambda m: m.full_like(m.arange(4), 2.7))
        check(lambda m: m.full_like(m.arange(4, dtype=np.uint8), -1))
        check(lambda m: m.full_like(m.arange(4), np.nan))
        check(lambda m: m.full_like(m.arange(4.0), np.nan))
        check(lambda m: m.full_like(m.zeros((2, 3)), m.arange(3)))


# -- ranges ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    (5,), (0,), (-3,), (2, 10), (10, 2), (10, 2, -1), (0, 1, 0.1), (0.5, 5), (1, 2, 0.3),
    (5.0,), (-1, -10, -3), (0, 10, 3), (np.int8(5),), (np.float32(0.5), 3), (True,),
    (0, 5, 0), (1, 5j), (2**62, 2**62 + 3), (0, 1e6, 1e5), (np.uint8(250), 260),
])
def test_arange(args):
    check(lambda m: m.arange(*args))
    for dtype in ("int8", "float32", "float64", "complex64", "uint16", "int64"):
        check(lambda m: m.arange(*args, dtype=dtype))


def test_arange_keywords_and_arrays():
    check(lambda m: m.arange(start=2, stop=7))
    check(lambda m: m.arange(stop=5))
    check(lambda m: m.arange(3, step=2))
    check(lambda m: m.arange(m.asarray(5)))
    check(lambda m: m.arange(m.asarray(1.5), 7, m.asarray(2)))
    check(lambda m: m.arange(m.arange(3)))
    check(lambda m: m.arange())


@pytest.mark.parametrize("name", ["linspace", "logspace", "geomspace"])
def test_spaces(name):
    ends = [(0, 1), (1, 10), (-2, 5), (2.5, -7.25), (1j, 5 + 1j), (1, 1)]
    if name == "geomspace":
        ends = [(1, 1000), (-1, -100), (2.0, 3), (1j, 100j), (1, 1), (0, 5)]
    for start, stop in ends:
        for num in (0, 1, 2, 7, 50):
            for endpoint in (True, False):
                check(lambda m: getattr(m, name)(start, stop, num, endpoint=endpoint),
                      exact=False)
        for dtype in ("float32", "int32", "complex128", "int8"):
            check(lambda m: getattr(m, name)(start, stop, 5, dtype=dtype), exact=False)
    # Array endpoints and axis.
    s = np.array([0.0, 1.0, 2.0]) + 1
    e = np.array([[5.0], [10.0]])
    for axis in (0, 1, -1, 2, 3):
        check(lambda m: getattr(m, name)(m.asarray(s), m.asarray(e), 4, axis=axis),
              exact=False)
    check(lambda m: getattr(m, name)(1, 5, -1))
    check(lambda m: getattr(m, name)(1, 5, 2.5))
    if name == "logspace":
        check(lambda m: m.logspace(0, 3, 4, base=2), exact=False)
        check(lambda m: m.logspace(0, 3, 4, base=m.asarray([2.0, 10.0])[:, None], axis=1),
              exact=False)


def test_linspace_retstep():
    for args in ((0, 1, 5), (0, 1, 1), (0, 1, 0), (2, -3, 7), (0, 10, 5, False)):
        res_h = hp.linspace(*args, retstep=True)
        res_n = np.linspace(*args, retstep=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert isinstance(res_h, tuple) and len(res_h) == 2
            assert_same(res_h[0], res_n[0], exact=False)
            assert type(res_h[1]) is type(res_n[1])
            np.testing.assert_allclose(res_h[1], res_n[1], equal_nan=True)
    res_h = hp.linspace(hp.asarray([0.0, 1.0]), 5, 3, retstep=True)
    res_n = np.linspace(np.asarray([0.0, 1.0]), 5, 3, retstep=True)
    assert_same(res_h[0], res_n[0], exact=False)
    np.testing.assert_allclose(np.asarray(res_h[1]), res_n[1])


# -- matrices -----------------------------------------------------------------------------


def test_eye_identity():
    for N, M, k in [(3, None, 0), (3, 5, 1), (4, 2, -1), (0, None, 0), (3, 3, 5), (3, 4, -7),
                    (1, 1, 0)]:
        check(lambda m: m.eye(N, M, k))
        check(lambda m: m.eye(N, M=M, k=k, dtype=int))
        check(lambda m: m.eye(N, M, k=k, dtype="complex64"))
    check(lambda m: m.eye(-1))
    check(lambda m: m.eye(2.5))
    for n in (0, 1, 4):
        for dtype in (None, int, bool, "float32"):
            check(lambda m: m.identity(n, dtype=dtype))


def test_diag_and_diagflat():
    for shape in [(4,), (0,), (1,), (3, 4), (4, 3), (2, 2), (0, 3)]:
        x = np.arange(int(np.prod(shape))).reshape(shape) + 1.5
        for k in (0, 1, -1, 3, -5):
            check(lambda m: m.diag(m.asarray(x), k))
            check(lambda m: m.diag(x.tolist(), k=k))
            check(lambda m: m.diagflat(m.asarray(x), k))
    check(lambda m: m.diag(m.ones((2, 2, 2))))
    check(lambda m: m.diag(m.asarray(3)))
    # A diagonal extracted from a view.
    x = np.arange(30.0).reshape(5, 6)
    check(lambda m: m.diag(m.asarray(x)[::2, 1:], 1))
    check(lambda m: m.diagflat([[1, 2], [3, 4]], -1))


def test_tri_tril_triu():
    for N, M, k in [(3, None, 0), (3, 5, 1), (4, 2, -1), (0, 3, 0), (3, 3, 10), (3, 3, -10)]:
        check(lambda m: m.tri(N, M, k))
        check(lambda m: m.tri(N, M, k, dtype=int))
    check(lambda m: m.tri(3, dtype=bool))
    for dtype in ("int8", "float32", "complex128", "bool", "uint64"):
        for shape in [(4, 5), (5, 4), (2, 3, 4), (2, 1, 3, 3), (4,), (0, 3), (3, 0)]:
            x = (np.arange(int(np.prod(shape))).reshape(shape) % 7).astype(dtype)
            for k in (0, 1, -2, 6, -6):
                check(lambda m: m.tril(m.asarray(x), k))
                check(lambda m: m.triu(m.asarray(x), k=k))
    check(lambda m: m.tril([[1, 2], [3, 4]]))
    check(lambda m: m.triu(m.asarray(np.arange(9.0).reshape(3, 3)).T))
    check(lambda m: m.tril(m.asarray(5)))


def test_meshgrid():
    x, y, z = np.arange(3.0), np.array([1, 5]), np.array([2.5, 3.5, 4.5, 5.5], np.float32)
    for indexing in ("xy", "ij"):
        for sparse in (False, True):
            for copy in (True, False):
                for arrs in ((x,), (x, y), (x, y, z), ()):
                    check(lambda m: m.meshgrid(*[m.asarray(a) for a in arrs],
                                               indexing=indexing, sparse=sparse, copy=copy))
    check(lambda m: m.meshgrid([1, 2], [[3, 4]]))
    check(lambda m: m.meshgrid(m.arange(2), indexing="bad"))
    gx, gy = hp.meshgrid(hp.arange(3), hp.arange(2))
    assert isinstance(gx, hp.ndarray)
    assert type(hp.meshgrid(hp.arange(3), hp.arange(2))) is type(
        np.meshgrid(np.arange(3), np.arange(2)))


def test_indices_and_fromfunction():
    for dims in ((2, 3), (4,), (), (2, 0, 3), (1, 2, 3)):
        check(lambda m: m.indices(dims))
        check(lambda m: m.indices(dims, dtype=np.int8))
        check(lambda m: m.indices(dims, dtype=float))
        check(lambda m: m.indices(dims, sparse=True))
    check(lambda m: m.fromfunction(lambda i, j: i * 10 + j, (3, 4)))
    check(lambda m: m.fromfunction(lambda i, j: i == j, (3, 3), dtype=int))
    check(lambda m: m.fromfunction(lambda i: i ** 2, (5,), dtype=np.int64))
    check(lambda m: m.fromfunction(lambda i, j, k: i + j + k, (2, 3, 2)))
    check(lambda m: m.fromfunction(lambda i, j: i + j, (2, 3), dtype=int).sum())


def test_copy():
    x = np.arange(12.0).reshape(3, 4)
    for src in (lambda m: m.asarray(x), lambda m: x, lambda m: x.tolist(),
                lambda m: m.asarray(x)[::-1, 1::2], lambda m: 5, lambda m: m.asarray(x).T):
        check(lambda m: m.copy(src(m)))
        check(lambda m: m.copy(src(m), order="C"))
    h = hp.asarray(x)
    c = hp.copy(h)
    c[0, 0] = 99
    assert float(h[0, 0]) == 0.0
    assert isinstance(hp.copy(5), hp.ndarray) == isinstance(np.copy(5), np.ndarray)


@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
    dtype=st.sampled_from(DTYPES),
    value=st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.booleans()),
)
def test_random_full_and_like(shape, dtype, value):
    check(lambda m: m.full(shape, value, dtype=dtype))
    check(lambda m: m.zeros_like(m.full(shape, value, dtype=dtype)))
    check(lambda m: m.ones(shape, dtype=dtype) * value)
