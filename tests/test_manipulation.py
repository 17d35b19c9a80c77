"""Array manipulation: reshapes, transposes, broadcasting, copies, casts, where/clip —
differential tests against NumPy, including memory sharing of views."""

import numpy as np
import pytest
from compare import assert_same, dtypes, raises_same
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hpcarray as hp

pytestmark = pytest.mark.filterwarnings("error::hpcarray.FallbackWarning")

shapes = hnp.array_shapes(min_dims=0, max_dims=6, min_side=0, max_side=4)


def arrays(shape=shapes, dtype=dtypes):
    return hnp.arrays(dtype, shape)


def check_write_through(h_view, n_view, h_base, n_base):
    """Writing the view's first element shows in the base exactly as in NumPy."""
    if n_view.size == 0 or not n_view.flags.writeable:
        return
    val = n_base.flat[-1]
    n_view[(0,) * n_view.ndim] = val
    h_view[(0,) * n_view.ndim] = val
    assert_same(h_base, n_base)
    assert np.shares_memory(n_view, n_base)


def new_shape(draw, n: int) -> tuple[int, ...]:
    """A shape of size n: n factored, maybe with -1 and unit axes."""
    dims = []
    rest = n
    for f in (2, 3, 2, 5, 7):
        while rest % f == 0 and rest > 1 and draw(st.booleans()):
            dims.append(f)
            rest //= f
    dims.append(rest)
    dims = list(draw(st.permutations(dims)))
    for _ in range(draw(st.integers(0, 2))):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    if n and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@st.composite
def reshape_case(draw):
    a = draw(arrays(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)))
    return a, new_shape(draw, a.size)


@st.composite
def window_reshape_case(draw):
    """A window of an array (slices of step 1) and a new shape for it."""
    a = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=8)))
    key = tuple(slice(*sorted(draw(st.tuples(st.integers(0, n), st.integers(0, n)))))
                for n in a.shape)
    return a, key, new_shape(draw, a[key].size)


@given(reshape_case(), st.sampled_from(["C", "F", "A"]), st.booleans())
def test_reshape(case, order, transposed):
    a, shape = case
    h = hp.array(a)
    if transposed:
        a, h = a.T, h.T
    r = hp.reshape(h, shape, order=order)
    e = np.reshape(a, shape, order=order)
    assert_same(r, e)
    base_n = a.copy() if not np.shares_memory(e, a) else a
    if np.shares_memory(e, a):
        check_write_through(r, e, h, base_n)


@given(window_reshape_case())
def test_reshape_of_a_window(case):
    """A window reshaped: across ranks, where NumPy makes a view (axes split, or merged
    across whole inner axes), a window of the whole array's reshape, tiled like it;
    values and write-through as NumPy's."""
    a, key, shape = case
    h = hp.array(a)
    r, e = h[key].reshape(shape), a[key].reshape(shape)
    assert_same(r, e)
    if np.shares_memory(e, a):
        check_write_through(r, e, h, a)


@pytest.mark.parametrize("key,shape", [
    ((slice(2, 10), slice(2, 6)), (8, 2, 2)),  # columns split in pairs
    ((slice(4, 8), slice(None)), (-1,)),  # whole rows merged
    ((slice(4, 8), slice(None)), (2, 2, 4, 2)),  # rows merged, then split
    ((slice(0, 12), slice(4, 8)), (12, 1, 4, 1)),  # unit axes added
    ((slice(3, 4), slice(2, 6)), (2, 2)),  # a unit axis dropped, the other split
    ((slice(1, 5), slice(2, 6)), (2, 2, 4)),  # a view NumPy makes that is no window
])
def test_reshape_of_a_window_cases(key, shape):
    a = np.arange(96.0).reshape(12, 8)
    h = hp.array(a)
    r, e = h[key].reshape(shape), a[key].reshape(shape)
    assert_same(r, e)
    check_write_through(r, e, h, a)


@given(arrays(), st.sampled_from(["C", "F", "A", "K"]))
def test_ravel_flatten(a, order):
    h = hp.array(a)
    assert_same(hp.ravel(h, order), np.ravel(a, order))
    assert_same(h.T.ravel(order), a.T.ravel(order))
    f = h.flatten(order)
    assert_same(f, a.flatten(order))
    if a.size:
        f[0] = a.flat[-1]
        assert_same(h, a)  # flatten copies


@given(arrays(), st.data())
def test_transpose_swap_move(a, data):
    h = hp.array(a)
    perm = data.draw(st.permutations(range(a.ndim)))
    assert_same(hp.transpose(h, perm), np.transpose(a, perm))
    assert_same(h.T, a.T)
    if a.ndim:
        i = data.draw(st.integers(-a.ndim, a.ndim - 1))
        j = data.draw(st.integers(-a.ndim, a.ndim - 1))
        assert_same(hp.swapaxes(h, i, j), np.swapaxes(a, i, j))
        assert_same(hp.moveaxis(h, i, j), np.moveaxis(a, i, j))
        check_write_through(hp.moveaxis(h, i, j), np.moveaxis(a, i, j), h, a)


@given(arrays(hnp.array_shapes(min_dims=0, max_dims=5, min_side=1, max_side=3)), st.data())
def test_squeeze_expand_broadcast(a, data):
    h = hp.array(a)
    assert_same(hp.squeeze(h), np.squeeze(a))
    units = [d for d, n in enumerate(a.shape) if n == 1]
    if units:
        ax = tuple(data.draw(st.lists(st.sampled_from(units), unique=True, min_size=1)))
        assert_same(h.squeeze(ax), a.squeeze(ax))
    ax = data.draw(st.integers(-a.ndim - 1, a.ndim))
    assert_same(hp.expand_dims(h, ax), np.expand_dims(a, ax))
    check_write_through(hp.expand_dims(h, ax), np.expand_dims(a, ax), h, a)
    target = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2))) + tuple(
        data.draw(st.sampled_from([n, 1])) if n == 1 else n for n in a.shape)
    target = tuple(3 if n == 1 and data.draw(st.booleans()) else n for n in target)
    assert_same(hp.broadcast_to(h, target), np.broadcast_to(a, target))
    got = hp.broadcast_arrays(h, hp.ones(target[-1:] or ()))
    exp = np.broadcast_arrays(a, np.ones(target[-1:] or ()))
    assert len(got) == len(exp)
    for g, e in zip(got, exp):
        assert_same(g, e)


def test_view_errors():
    a = np.zeros((2, 3))
    h = hp.array(a)
    raises_same(lambda: a.reshape(4), lambda: h.reshape(4))
    raises_same(lambda: np.squeeze(a, 0), lambda: hp.squeeze(h, 0))
    raises_same(lambda: np.swapaxes(a, 0, 2), lambda: hp.swapaxes(h, 0, 2))
    raises_same(lambda: np.broadcast_to(a, (3, 3)), lambda: hp.broadcast_to(h, (3, 3)))
    raises_same(lambda: np.transpose(a, (0, 0)), lambda: hp.transpose(h, (0, 0)))
    raises_same(lambda: np.expand_dims(a, 3), lambda: hp.expand_dims(h, 3))


@given(arrays(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)), dtypes)
@example(np.full((2, 3), 4294967296.0 + 0j), np.dtype(np.uint32))  # found by CI
def test_copy_astype(a, dt):
    h = hp.array(a)
    c = hp.copy(h)
    assert_same(c, np.copy(a))
    if a.size:
        c[(0,) * a.ndim] = a.flat[-1]
        assert_same(h, a)
    with np.errstate(all="ignore"), pytest.warns() if (
            a.dtype.kind == "c" and dt.kind not in "cb") else _nullcontext():
        got = h.astype(dt)
    with np.errstate(all="ignore"), pytest.warns() if (
            a.dtype.kind == "c" and dt.kind not in "cb") else _nullcontext():
        exp = a.astype(dt)
    if _cast_is_undefined(a, dt):
        # Out-of-range float -> int casts are undefined in C: NumPy's own result depends on
        # which loop (SIMD or not) handles an element, so only dtype and shape are NumPy's.
        got = np.asarray(got)
        assert (got.dtype, got.shape) == (exp.dtype, exp.shape)
        return
    assert_same(got, exp)


def _cast_is_undefined(a, dt) -> bool:
    """NumPy flags the cast as invalid (a value out of the target's range, or NaN)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with np.errstate(all="ignore", invalid="raise"):
                a.astype(dt)
        except FloatingPointError:
            return True
    return False


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_copyto_where_clip():
    a = np.arange(12.0).reshape(3, 4)
    h = hp.array(a)
    b, hb = np.zeros((3, 4)), hp.zeros((3, 4))
    np.copyto(b, a, where=a > 4)
    hp.copyto(hb, h, where=h > 4)
    assert_same(hb, b)
    raises_same(lambda: np.copyto(np.zeros(3, np.int32), np.ones(3)),
                lambda: hp.copyto(hp.zeros(3, np.int32), hp.ones(3)))
    assert_same(hp.where(h > 5, h, -1), np.where(a > 5, a, -1))
    assert_same(hp.where(h > 5), np.where(a > 5))
    assert_same(hp.where(True, 1, 2.5), np.where(True, 1, 2.5))
    assert_same(hp.clip(h, 2, 7), np.clip(a, 2, 7))
    assert_same(hp.clip(h, None, 3), np.clip(a, None, 3))
    raises_same(lambda: np.where(a > 1, a), lambda: hp.where(h > 1, h))


def test_assign_0d_views_and_scalars():
    a = np.arange(6).reshape(2, 3)
    h = hp.array(a)
    h[1, 2] = 40
    a[1, 2] = 40
    h[0][1] = 7
    a[0][1] = 7
    h[..., 0][1] = -3
    a[..., 0][1] = -3
    assert_same(h, a)
    z = hp.array(1.5)
    z[...] = 2
    assert_same(z, np.array(2.0))
    raises_same(lambda: np.zeros(2, np.int8).__setitem__(0, 1000),
                lambda: hp.zeros(2, np.int8).__setitem__(0, 1000))


def test_shape_setter_and_base():
    h = hp.arange(6)
    v = h.reshape(2, 3)
    v[1, 1] = 99
    assert h[4] == 99
    assert h.base is None and v.base is not None


def test_runtime_elementwise_0d_output():
    from hpcarray._api import ops
    from hpcarray._api.convert import new_array

    out = new_array((), np.float64)
    ops.elementwise("fill", lambda o, i: np.copyto(o[0], i[0]), [out], [3.0])
    assert_same(out, np.array(3.0))


def test_round_of_integers_to_tens_and_broadcast_error_text():
    for dtype in (np.int8, np.int64, np.uint16, np.float32):
        x = np.array([1234 % 120, 15, -26 if dtype != np.uint16 else 26, 5], dtype=dtype)
        for decimals in (-1, -2, 0, 1):
            assert_same(hp.round(hp.asarray(x), decimals), np.round(x, decimals))
    # NumPy's text for shapes: (5,) into (3,4), not Python's (3, 4).
    raises_same(lambda: np.zeros((3, 4)).__setitem__(slice(None), np.ones(5)),
                lambda: hp.zeros((3, 4)).__setitem__(slice(None), hp.ones(5)))
