# ruff: noqa: B023  (every lambda/closure here is called at once, inside its loop)
"""Differential tests: reductions, scans and counting against NumPy.

Float results are compared with allclose (tiles sum in another order); integer and bool
results exactly; dtype, shape and scalar-vs-array always exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from compare import DTYPE_NAMES, agreeing_outcomes, assert_same, describe, runtime_with
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import hpcarray as hp
from hpcarray.runtime.comm import launched_by_mpi

DTYPES = DTYPE_NAMES


def make(dtype, shape, seed=0, nan=False):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.integers(-5, 6, size=shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(x > 0)
    if dt.kind == "u":
        return np.abs(x).astype(dt)
    if dt.kind == "i":
        return x.astype(dt)
    if dt.kind == "f":
        out = np.asarray(x * 0.5).astype(dt)
    else:
        out = np.asarray(x * 0.5 + 0.25j * rng.integers(-3, 4, size=shape)).astype(dt)
    if nan and out.size >= 3:
        flat = out.reshape(-1)
        flat[1] = np.nan
        flat[-1] = np.nan
    return out




def check(fn, **kwargs):
    try:
        return _check(fn, **kwargs)
    except AssertionError as err:
        raise AssertionError(f"{err}\n  case: {describe(fn)}") from None


def _check(fn, *, exact=False, rtol=2e-3):
    results = agreeing_outcomes(fn)
    if results is None:
        return None
    got, exp = results
    assert_same(got, exp, exact=exact, rtol=rtol, atol=1e-3)
    return got


def arg(m, x, h):
    return h if m is hp else x


def axes_for(ndim):
    out = [None, ()]
    for d in range(ndim):
        out += [d, -1 - d]
    if ndim >= 2:
        out += [(0, 1), (-1, 0)]
    if ndim >= 3:
        out += [(0, 2), (0, 1, 2)]
    return out


SHAPES = [(5, 7), (3, 4, 2), (6,), (), (0,), (3, 0), (2, 0, 3), (1, 1)]

# name, takes dtype=, takes initial=, takes where=
FUNCS = {
    "sum": (True, True, True), "prod": (True, True, True), "min": (False, True, True),
    "max": (False, True, True), "amin": (False, True, True), "amax": (False, True, True),
    "mean": (True, False, True), "var": (True, False, True), "std": (True, False, True),
    "any": (False, False, True), "all": (False, False, True),
    "nansum": (True, True, True), "nanprod": (True, True, True),
    "nanmin": (False, True, True), "nanmax": (False, True, True),
    "nanmean": (True, False, True),
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_reduction_functions(name):
    has_dtype, has_initial, _ = FUNCS[name]
    dtypes = DTYPES if name in ("sum", "prod", "min", "max", "any", "all") else [
        "bool", "int8", "uint64", "float16", "float32", "float64", "complex64"]
    for dtype in dtypes:
        for shape in SHAPES:
            x = make(dtype, shape, nan=name.startswith("nan"))
            h = hp.array(x)
            for i, axis in enumerate(axes_for(len(shape))):
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis))
                if i % 3 == 0:
                    check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis, keepdims=True))
            if has_dtype:
                for dt in ("float64", "int64", "complex128", "float32"):
                    check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, dtype=dt))
            if has_initial:
                check(lambda m: getattr(m, name)(arg(m, x, h), initial=3))
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=-1, initial=-2))


@pytest.mark.parametrize("name", [n for n in FUNCS if not n.startswith(("nan", "am"))])
def test_reduction_methods(name):
    for dtype in ("bool", "int16", "uint64", "float32", "complex128"):
        for shape in [(4, 6), (), (0, 2)]:
            x = make(dtype, shape)
            h = hp.array(x)
            for axis in (None, 0, -1) if shape else (None,):
                check(lambda m: getattr(arg(m, x, h), name)(axis=axis))
                check(lambda m: getattr(arg(m, x, h), name)(axis, keepdims=True))


@pytest.mark.parametrize("name", [n for n, f in FUNCS.items() if f[2]])
def test_reduction_where(name):
    has_dtype, has_initial, _ = FUNCS[name]
    for dtype in ("int32", "float64", "bool", "complex64"):
        x = make(dtype, (4, 6), nan=name.startswith("nan"))
        h = hp.array(x)
        for w in (make("bool", (4, 6), 1), make("bool", (6,), 2), np.ones((4, 1), bool),
                  False, True, np.zeros((4, 6), bool)):
            kw = {"initial": 10} if has_initial else {}
            for axis in (None, 0, 1):
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis,
                                                 where=m.asarray(w) if isinstance(
                                                     w, np.ndarray) else w, **kw))
            if has_initial:
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, where=w))
        check(lambda m: getattr(m, name)(arg(m, x, h), where=m.ones((3, 6), bool)))


@pytest.mark.parametrize("name", list(FUNCS) + ["argmin", "argmax", "count_nonzero"])
def test_bad_axes(name):
    x = make("float64", (3, 4))
    h = hp.array(x)
    for axis in (2, -3, (0, 0), (0, 5), 1.5, "a"):
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis))
    with pytest.raises(np.exceptions.AxisError):
        getattr(hp, name)(h, axis=7)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std", "any",
                                  "all", "nansum", "nanmax", "argmax", "argmin"])
def test_reduction_out(name):
    x = make("float64", (4, 5))
    h = hp.array(x)
    res_dtype = np.float64 if name not in ("any", "all", "argmax", "argmin") else (
        bool if name in ("any", "all") else np.intp)

    def fn(m):
        out = m.zeros(5, res_dtype)
        r = getattr(m, name)(m.asarray(x), axis=0, out=out)
        assert r is out
        out2 = m.zeros((1, 5), res_dtype)
        if name not in ("argmax", "argmin"):
            r2 = getattr(m, name)(m.asarray(x), axis=0, out=out2, keepdims=True)
            assert r2 is out2
        return out, out2

    check(fn)
    check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, out=m.zeros(4, res_dtype)))
    if name in ("sum", "prod", "max", "min"):
        def fn0(m):
            out = m.zeros((), np.float64)
            r = getattr(m, name)(m.asarray(x), out=out)
            assert r is out
            return out

        check(fn0)

        def fn_cast(m):
            out = m.zeros(5, np.float32)
            getattr(m, name)(m.asarray(x), axis=0, out=out)
            return out

        check(fn_cast)


@pytest.mark.parametrize("name", ["argmin", "argmax"])
def test_arg_reductions(name):
    for dtype in DTYPES:
        for shape in [(5, 7), (3, 4, 2), (6,), (), (1,)]:
            x = make(dtype, shape, nan=True)
            h = hp.array(x)
            for axis in [None] + list(range(-len(shape), len(shape))):
                for keepdims in (False, True):
                    check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis,
                                                     keepdims=keepdims), exact=True)
                    check(lambda m: getattr(arg(m, x, h), name)(axis=axis, keepdims=keepdims),
                          exact=True)
    # Ties pick the first; the first NaN wins.
    for data in ([3, 1, 1, 3], [1.0, np.nan, 5.0, np.nan], [np.nan, 1.0], [2, 2, 2]):
        x = np.array(data)
        h = hp.array(x)
        check(lambda m: getattr(m, name)(arg(m, x, h)), exact=True)
    x = np.array([[1.0, np.nan, 3.0, np.nan, 9.0, 0.0]] * 3).T.copy()
    h = hp.array(x)
    check(lambda m: getattr(m, name)(arg(m, x, h), axis=0), exact=True)
    # Empty arrays raise ValueError.
    for shape, axis in [((0,), None), ((3, 0), 1), ((0, 3), 0), ((0, 3), 1)]:
        x = np.zeros(shape)
        h = hp.array(x)
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis), exact=True)

    def fn(m):
        out = m.zeros(7, np.intp)
        r = getattr(m, name)(m.asarray(make("float64", (5, 7))), axis=0, out=out)
        assert r is out
        return out

    check(fn, exact=True)


def test_count_nonzero():
    for dtype in DTYPES:
        for shape in SHAPES:
            x = make(dtype, shape)
            h = hp.array(x)
            for axis in axes_for(len(shape)):
                check(lambda m: m.count_nonzero(arg(m, x, h), axis=axis), exact=True)
                check(lambda m: m.count_nonzero(arg(m, x, h), axis=axis, keepdims=True),
                      exact=True)
    check(lambda m: m.count_nonzero([[1, 0], [3, 4]]), exact=True)
    check(lambda m: m.count_nonzero(5), exact=True)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
def test_scans(name):
    for dtype in DTYPES:
        for shape in [(5, 7), (3, 4, 2), (6,), (), (0,), (3, 0)]:
            x = make(dtype, shape, nan=name.startswith("nan"))
            h = hp.array(x)
            for axis in [None] + list(range(-len(shape), len(shape))):
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis))
                if not name.startswith("nan"):
                    check(lambda m: getattr(arg(m, x, h), name)(axis=axis))
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis, dtype="float32"))
    x = make("int32", (4, 5))

    def fn(m):
        out = m.zeros((4, 5))
        r = getattr(m, name)(m.asarray(x), axis=1, out=out)
        assert r is out
        return out

    check(fn)
    check(lambda m: getattr(m, name)(m.asarray(x), axis=2))


def test_mean_var_std_details():
    x = make("float64", (5, 6))
    h = hp.array(x)
    for ddof in (0, 1, 2, 6, 7):
        for name in ("var", "std"):
            check(lambda m: getattr(m, name)(arg(m, x, h), ddof=ddof))
            check(lambda m: getattr(m, name)(arg(m, x, h), axis=1, ddof=ddof))
            check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, ddof=ddof, keepdims=True))
    check(lambda m: m.var(arg(m, x, h), correction=1))
    check(lambda m: m.std(arg(m, x, h), axis=0, mean=m.mean(arg(m, x, h), axis=0,
                                                              keepdims=True)))
    for dtype in ("float16", "float32", "int8", "bool", "complex64", "uint64"):
        y = make(dtype, (4, 3))
        g = hp.array(y)
        for name in ("mean", "var", "std"):
            check(lambda m: getattr(m, name)(arg(m, y, g)))
            check(lambda m: getattr(m, name)(arg(m, y, g), axis=0))
            check(lambda m: getattr(m, name)(arg(m, y, g), dtype="float32"))
    # Python lists and scalars.
    check(lambda m: m.mean([1, 2, 3, 4]))
    check(lambda m: m.sum([[1, 2], [3, 4]], axis=0))
    check(lambda m: m.max(7))
    check(lambda m: m.std(3.0))


def test_empty_reductions():
    for dtype in DTYPES:
        x = np.zeros((0, 3), dtype)
        h = hp.array(x)
        for name in ("sum", "prod", "max", "min", "mean", "any", "all", "nanmax", "var",
                     "nanmean", "nansum"):
            for axis in (None, 0, 1):
                check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis))
            check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, keepdims=True))
        check(lambda m: m.max(arg(m, x, h), initial=5))
        check(lambda m: m.min(arg(m, x, h), axis=0, initial=5))


def test_nan_functions_all_nan():
    x = np.array([[np.nan, 1.0], [np.nan, 2.0]])
    h = hp.array(x)
    for name in ("nanmin", "nanmax", "nanmean", "nansum", "nanprod", "nanvar", "nanstd"):
        for axis in (None, 0, 1):
            check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis))
    with pytest.warns(RuntimeWarning):
        hp.nanmax(h, axis=0)


def test_precision_of_float_sum():
    """Tile-wise partial sums stay as close to NumPy's pairwise sum as allclose allows."""
    rng = np.random.default_rng(3)
    x = rng.random((101, 37)).astype(np.float32)
    h = hp.array(x)
    check(lambda m: m.sum(arg(m, x, h)), rtol=1e-5)
    check(lambda m: m.mean(arg(m, x, h), axis=0), rtol=1e-5)
    check(lambda m: m.std(arg(m, x, h), axis=1), rtol=1e-4)


def test_zero_d_and_scalar_results():
    for dtype in DTYPES:
        x = np.asarray(make(dtype, ()))
        h = hp.array(x)
        for name in ("sum", "prod", "max", "min", "mean", "any", "all", "argmax", "var",
                     "cumsum"):
            check(lambda m: getattr(m, name)(arg(m, x, h)))
            check(lambda m: getattr(m, name)(arg(m, x, h), axis=0))
            check(lambda m: getattr(m, name)(arg(m, x, h), axis=None))
    h = hp.arange(6).reshape(2, 3)
    assert isinstance(h.sum(), np.int64)
    assert isinstance(h.sum(axis=0), hp.ndarray)
    assert isinstance(h.max(keepdims=True), hp.ndarray)
    assert isinstance(hp.any(h), np.bool_)


@given(
    shape=array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4),
    dtype=st.sampled_from(DTYPES),
    name=st.sampled_from(["sum", "prod", "max", "min", "mean", "any", "all", "argmax",
                          "argmin", "std", "cumsum", "count_nonzero"]),
    data=st.data(),
)
def test_random_shapes_and_axes(shape, dtype, name, data):
    x = make(dtype, shape, seed=len(shape))
    h = hp.array(x)
    nd = len(shape)
    if name in ("argmax", "argmin", "cumsum"):
        axis = data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1)) if nd else st.none())
    else:
        axis = data.draw(st.one_of(
            st.none(),
            st.lists(st.integers(0, nd - 1), unique=True, max_size=nd).map(tuple)
            if nd else st.just(()),
        ))
    kw = {"keepdims": True} if data.draw(st.booleans()) and name != "cumsum" else {}
    check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis, **kw),
          exact=name in ("argmax", "argmin", "any", "all", "count_nonzero"))


def test_reductions_on_views():
    x = make("float64", (8, 9))
    h = hp.array(x)
    for view in (lambda a: a.T, lambda a: a[1:7:2, ::-3], lambda a: a[None, 2:, 3],
                 lambda a: a[:, :1]):
        for name in ("sum", "max", "argmin", "mean", "cumsum", "any"):
            check(lambda m: getattr(m, name)(view(arg(m, x, h)), axis=0))
            check(lambda m: getattr(m, name)(view(arg(m, x, h))))


def test_numpy_dispatch_of_reductions():
    x = make("float64", (4, 5))
    h = hp.array(x)
    for name in ("sum", "prod", "max", "min", "mean", "std", "var", "argmax", "cumsum",
                 "any", "all", "count_nonzero", "nanmean", "amax"):
        got = getattr(np, name)(h, axis=0)
        assert isinstance(got, hp.ndarray), name
        assert_same(got, getattr(np, name)(x, axis=0), exact=False)
    assert_same(np.sum(h), np.sum(x), exact=False)


def test_bad_where_and_out():
    x = make("float64", (3, 4))
    h = hp.array(x)
    for name in ("sum", "max", "any", "mean"):
        kw = {"initial": 0} if name == "max" else {}
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, where=m.ones(4), **kw))
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, where=m.ones(3, bool), **kw))
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, out=m.zeros((1, 4))))
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, out=m.zeros(3)))
    for name in ("argmax", "argmin"):
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, out=m.zeros(4)))
        check(lambda m: getattr(m, name)(arg(m, x, h), axis=0, out=m.zeros(4, np.int32)))

    def fn(m):
        out = m.zeros(4, int)
        m.sum(m.asarray(x), axis=0, out=out)  # reductions cast into out unsafely
        out2 = m.zeros(4, complex)
        m.add.reduce(m.asarray(x), axis=0, out=out2)
        return out, out2

    check(fn, exact=True)


@pytest.fixture
def untiled_runtime():
    """The small-array fast path is off in test mode: switch it on."""
    with runtime_with(test_mode=False):
        yield


@pytest.mark.skipif(launched_by_mpi(), reason="the fast path runs only on one rank")
def test_fast_path_reductions(untiled_runtime):
    for dtype in ("bool", "int8", "uint64", "float16", "float64", "complex64"):
        for shape in [(5, 7), (), (0, 3), (3, 4, 2)]:
            x = make(dtype, shape, nan=True)
            h = hp.array(x)
            for name in ("sum", "prod", "max", "min", "mean", "any", "argmax", "var",
                         "nanmax", "nansum", "cumsum", "count_nonzero"):
                for axis in (None, 0, -1):
                    check(lambda m: getattr(m, name)(arg(m, x, h), axis=axis))
                check(lambda m: getattr(m, name)(arg(m, x, h), keepdims=True)
                      if name != "cumsum" else m.cumsum(arg(m, x, h)))
            w = make("bool", shape, 3)
            check(lambda m: m.sum(arg(m, x, h), where=m.asarray(w)))
            check(lambda m: m.max(arg(m, x, h), where=m.asarray(w), initial=0))
            check(lambda m: m.add.reduce(arg(m, x, h), axis=None, initial=1))
            if x.ndim:
                def fn(m):
                    out = m.zeros(x.shape[1:], "float64")
                    r = m.sum(m.asarray(x), axis=0, out=out)
                    assert r is out
                    r = m.add.reduce(m.asarray(x), axis=0, out=(out,))
                    assert r is out
                    return out

                check(fn)


# Every reduction and scan that takes out=: (name, kind) with kind "reduce" (axis tuples,
# keepdims), "scan" (one axis or None) or "arg" (one axis or None, keepdims).
OUT_FUNCS = {
    "sum": "reduce", "prod": "reduce", "min": "reduce", "max": "reduce", "amin": "reduce",
    "amax": "reduce", "mean": "reduce", "var": "reduce", "std": "reduce", "any": "reduce",
    "all": "reduce", "nansum": "reduce", "nanprod": "reduce", "nanmin": "reduce",
    "nanmax": "reduce", "nanmean": "reduce", "nanvar": "reduce", "nanstd": "reduce",
    "cumsum": "scan", "cumprod": "scan", "nancumsum": "scan", "nancumprod": "scan",
    "argmin": "arg", "argmax": "arg", "add.reduce": "reduce", "multiply.reduce": "reduce",
    "maximum.reduce": "reduce", "fmin.reduce": "reduce", "logical_or.reduce": "reduce",
    "add.accumulate": "scan", "maximum.accumulate": "scan",
}


_NO_DTYPE = ("min", "max", "amin", "amax", "any", "all", "nanmin", "nanmax", "argmin",
             "argmax")


def _func(m, name):
    """m.sum, or a ufunc method: m.add.reduce."""
    obj = m
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _out_shape(shape, axis, keepdims, kind):
    if kind == "scan":
        return (int(np.prod(shape)),) if axis is None else shape
    axes = range(len(shape)) if axis is None else [
        a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))]
    return tuple(1 if d in axes else n for d, n in enumerate(shape) if keepdims or d not in axes)


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@given(
    shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9),
    dtype=st.sampled_from(DTYPES),
    out_dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_out_takes_numpy_accumulation_dtype(shape, dtype, out_dtype, name, data):
    """The out dtype only receives the final cast: the accumulation runs in NumPy's loop
    dtype (sum(float64, out=int64) adds 1.5s, not 1s), at every dtype pair."""
    kind = OUT_FUNCS[name]
    nd = len(shape)
    if kind == "reduce":
        axis = data.draw(st.one_of(
            st.none(), st.lists(st.integers(0, nd - 1), unique=True, max_size=nd).map(tuple)))
    elif name.endswith("accumulate"):
        axis = data.draw(st.integers(-nd, nd - 1))
    else:
        axis = data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    keepdims = kind != "scan" and data.draw(st.booleans())
    x = make(dtype, shape, seed=nd, nan=name.startswith("nan"))
    h = hp.array(x)
    kw = {"keepdims": True} if keepdims else {}
    if name not in _NO_DTYPE and data.draw(st.booleans()):
        kw["dtype"] = data.draw(st.sampled_from(DTYPES))
        loop = np.dtype(kw["dtype"])
        if loop.kind in "iu" and x.dtype.kind in "fc":  # casts C leaves undefined
            with np.errstate(all="ignore"):
                real = np.asarray(x.real if x.dtype.kind == "c" else x, np.float64)
                info = np.iinfo(loop)
                assume(np.isfinite(real).all() and (real >= info.min).all()
                       and (real <= info.max).all())
    out_shape = _out_shape(shape, axis, keepdims, kind)
    undefined = False
    if np.dtype(out_dtype).kind in "iu" and name in ("nanmin", "nanmax", "fmin.reduce"):
        # NaN, infinities or values out of range cast to an integer: undefined (and differ).
        # NumPy casts the *inputs* to an integer out's dtype before comparing (fmax.reduce
        # with out=), so every input must cast, not just the result.
        if x.dtype.kind in "fc":
            info = np.iinfo(out_dtype)
            with np.errstate(all="ignore"):
                undefined = not (np.isfinite(x).all() and (x.real >= info.min).all()
                                 and (x.real <= info.max).all())

    def fn(m):
        out = m.zeros(out_shape, out_dtype)
        r = _func(m, name)(arg(m, x, h), axis=axis, out=out, **kw)
        assert r is out
        return out

    if undefined:  # values undefined: only the result's dtype and shape must agree
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            got, want = fn(hp), fn(np)
        assert (got.dtype, got.shape) == (want.dtype, want.shape)
        return
    check(fn)


def test_sum_into_integer_out_adds_before_casting():
    # The case: each 1.5 was cast to 1 before adding (600000 for NumPy's 900000).
    def fn(m):
        o = m.zeros((), np.int64)
        m.sum(m.full(6000, 1.5), out=o)
        return o

    check(fn, exact=True)
