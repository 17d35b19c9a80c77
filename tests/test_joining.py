"""Joining, splitting, tiling and rearranging: differential tests against NumPy."""

import numpy as np
import pytest
from compare import assert_same, dtypes, raises_same
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hpcarray as hp

pytestmark = pytest.mark.filterwarnings("error::hpcarray.FallbackWarning")



SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


def arrays(shape=SHAPES, dtype=dtypes):
    return hnp.arrays(dtype, shape)


# -- concatenate and stacks --------------------------------------------------------------


@st.composite
def concat_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = draw(st.integers(1, 4))
    out = []
    for _ in range(n):
        s = list(shape)
        s[axis] = draw(st.integers(0, 4))
        out.append(draw(arrays(st.just(tuple(s)))))
    return out, axis


@given(concat_case())
def test_concatenate(case):
    arrs, axis = case
    assert_same(hp.concatenate([hp.array(a) for a in arrs], axis=axis),
                np.concatenate(arrs, axis=axis))


@given(st.lists(arrays(), min_size=1, max_size=3))
def test_concatenate_axis_none(arrs):
    assert_same(hp.concatenate([hp.array(a) for a in arrs], axis=None),
                np.concatenate(arrs, axis=None))


def test_concatenate_dtype_casting_out():
    a = np.arange(6).reshape(2, 3)
    b = np.ones((1, 3))
    assert_same(hp.concatenate([hp.array(a), hp.array(b)], dtype=np.float32),
                np.concatenate([a, b], dtype=np.float32))
    raises_same(lambda: np.concatenate([a, b], dtype=np.int32),
                lambda: hp.concatenate([hp.array(a), hp.array(b)], dtype=np.int32))
    out_np, out_hp = np.zeros((3, 3)), hp.zeros((3, 3))
    np.concatenate([a, b], out=out_np)
    r = hp.concatenate([hp.array(a), hp.array(b)], out=out_hp)
    assert r is out_hp
    assert_same(out_hp, out_np)
    assert_same(hp.concatenate([[1, 2], [3.5]]), np.concatenate([[1, 2], [3.5]]))


def test_concatenate_errors():
    a, b = np.zeros((2, 3)), np.zeros((2, 2))
    raises_same(lambda: np.concatenate([a, b]), lambda: hp.concatenate([hp.array(a),
                                                                         hp.array(b)]))
    raises_same(lambda: np.concatenate([a, a[0]]),
                lambda: hp.concatenate([hp.array(a), hp.array(a[0])]))
    raises_same(lambda: np.concatenate([np.float64(1)]), lambda: hp.concatenate([hp.array(1.0)]))
    raises_same(lambda: np.concatenate([a], axis=2), lambda: hp.concatenate([hp.array(a)],
                                                                          axis=2))
    raises_same(lambda: np.concatenate([]), lambda: hp.concatenate([]))


@given(st.data())
def test_stacks(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    dt = data.draw(dtypes)
    arrs = [data.draw(arrays(st.just(shape), st.just(dt))) for _ in range(data.draw(
        st.integers(1, 3)))]
    hps = [hp.array(a) for a in arrs]
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    assert_same(hp.stack(hps, axis=axis), np.stack(arrs, axis=axis))
    assert_same(hp.hstack(hps), np.hstack(arrs))
    assert_same(hp.vstack(hps), np.vstack(arrs))
    assert_same(hp.dstack(hps), np.dstack(arrs))
    if len(shape) <= 2:
        assert_same(hp.column_stack(hps), np.column_stack(arrs))
    for f in ("atleast_1d", "atleast_2d", "atleast_3d"):
        assert_same(getattr(hp, f)(*hps), getattr(np, f)(*arrs))


def test_stack_errors():
    raises_same(lambda: np.stack([np.zeros(2), np.zeros(3)]),
                lambda: hp.stack([hp.zeros(2), hp.zeros(3)]))
    raises_same(lambda: np.stack([]), lambda: hp.stack([]))
    raises_same(lambda: np.stack([np.zeros(2)], axis=3), lambda: hp.stack([hp.zeros(2)],
                                                                          axis=3))
    raises_same(lambda: np.hstack(np.zeros(2) for _ in range(2)),
                lambda: hp.hstack(hp.zeros(2) for _ in range(2)))


def test_atleast_views_share_memory():
    a = hp.arange(3)
    b = hp.atleast_3d(a)
    b[0, 1, 0] = 7
    assert a[1] == 7


def test_append_block():
    a = np.arange(6).reshape(2, 3)
    assert_same(hp.append(hp.array(a), [1, 2]), np.append(a, [1, 2]))
    assert_same(hp.append(hp.array(a), hp.array(a), axis=0), np.append(a, a, axis=0))
    A, B = np.eye(2), np.ones((2, 3))
    assert_same(hp.block([[hp.array(A), hp.array(B)], [np.zeros((1, 2)), np.ones((1, 3))]]),
                np.block([[A, B], [np.zeros((1, 2)), np.ones((1, 3))]]))
    assert_same(hp.block([1, 2, hp.array([3, 4])]), np.block([1, 2, np.array([3, 4])]))


# -- splitting ---------------------------------------------------------------------------


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=7)), st.data())
def test_array_split(a, data):
    axis = data.draw(st.integers(0, a.ndim - 1))
    sections = data.draw(st.one_of(
        st.integers(1, 5), st.lists(st.integers(-8, 8), max_size=4)))
    got = hp.array_split(hp.array(a), sections, axis=axis)
    exp = np.array_split(a, sections, axis=axis)
    assert len(got) == len(exp)
    for g, e in zip(got, exp):
        assert_same(g, e)


def test_split_family_and_views():
    a = np.arange(24).reshape(2, 3, 4)
    h = hp.array(a)
    for f, arg in (("split", 2), ("hsplit", 3), ("vsplit", 2), ("dsplit", [1, 3])):
        for g, e in zip(getattr(hp, f)(h, arg), getattr(np, f)(a, arg)):
            assert_same(g, e)
    raises_same(lambda: np.split(a, 5), lambda: hp.split(h, 5))
    raises_same(lambda: np.vsplit(a[0, 0], 2), lambda: hp.vsplit(h[0, 0], 2))
    raises_same(lambda: np.array_split(a, 0), lambda: hp.array_split(h, 0))
    parts = hp.split(h, 2, axis=2)
    parts[1][...] = -1
    a2 = a.copy()
    np.split(a2, 2, axis=2)[1][...] = -1
    assert_same(h, a2)
    for g, e in zip(hp.unstack(h, axis=1), np.unstack(a2, axis=1)):
        assert_same(g, e)


# -- flips, rotations, rolls -------------------------------------------------------------


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)), st.data())
def test_flip_views(a, data):
    axis = data.draw(st.one_of(
        st.none(), st.integers(-a.ndim, a.ndim - 1),
        st.lists(st.integers(0, a.ndim - 1), unique=True).map(tuple)))
    h = hp.array(a)
    f = hp.flip(h, axis)
    assert_same(f, np.flip(a, axis))
    # writes through the flipped view land in the base, as in NumPy
    if a.size:
        b = a.copy()
        fb = np.flip(b, axis)
        fb[(0,) * a.ndim] = fb[(-1,) * a.ndim]
        f[(0,) * a.ndim] = f[(-1,) * a.ndim]
        assert_same(h, b)


@given(arrays(hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4)),
       st.integers(-5, 5), st.data())
def test_rot90(a, k, data):
    ax = data.draw(st.lists(st.integers(-a.ndim, a.ndim - 1), min_size=2, max_size=2,
                            unique=True).filter(lambda p: abs(p[0] - p[1]) != a.ndim))
    h = hp.array(a)
    r = hp.rot90(h, k, axes=ax)
    assert_same(r, np.rot90(a, k, axes=ax))
    assert_same(hp.fliplr(h), np.fliplr(a))
    assert_same(hp.flipud(h), np.flipud(a))
    if a.size:
        b = a.copy()
        np.rot90(b, k, axes=ax)[(0,) * a.ndim] = 1
        r[(0,) * a.ndim] = 1
        assert_same(h, b)


def test_flip_errors():
    raises_same(lambda: np.rot90(np.zeros((2, 2)), axes=(0, 0)),
                lambda: hp.rot90(hp.zeros((2, 2)), axes=(0, 0)))
    raises_same(lambda: np.rot90(np.zeros((2, 2)), axes=(0, 3)),
                lambda: hp.rot90(hp.zeros((2, 2)), axes=(0, 3)))
    raises_same(lambda: np.fliplr(np.zeros(2)), lambda: hp.fliplr(hp.zeros(2)))
    raises_same(lambda: np.flip(np.zeros(2), 1), lambda: hp.flip(hp.zeros(2), 1))


@given(arrays(), st.data())
def test_roll(a, data):
    h = hp.array(a)
    if a.ndim == 0 or data.draw(st.booleans()):
        shift = data.draw(st.integers(-10, 10))
        assert_same(hp.roll(h, shift), np.roll(a, shift))
        return
    axes = data.draw(st.lists(st.integers(-a.ndim, a.ndim - 1), min_size=1, max_size=3))
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=len(axes), max_size=len(axes)))
    assert_same(hp.roll(h, tuple(shifts), tuple(axes)), np.roll(a, tuple(shifts), tuple(axes)))
    assert_same(hp.roll(h, shifts[0], axes[0]), np.roll(a, shifts[0], axes[0]))


# -- tile, repeat, resize ----------------------------------------------------------------


@given(arrays(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
       st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=1, max_size=4)))
def test_tile(a, reps):
    assert_same(hp.tile(hp.array(a), reps), np.tile(a, reps))


@given(arrays(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)), st.data())
def test_repeat(a, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1))) if a.ndim \
        else None
    n = a.size if axis is None else a.shape[axis]
    reps = data.draw(st.one_of(st.integers(0, 3),
                               st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    h = hp.array(a)
    assert_same(hp.repeat(h, reps, axis=axis), np.repeat(a, reps, axis=axis))
    assert_same(h.repeat(reps, axis=axis), a.repeat(reps, axis=axis))


def test_repeat_errors():
    raises_same(lambda: np.repeat(np.arange(3), [1, 2]), lambda: hp.repeat(hp.arange(3), [1, 2]))
    raises_same(lambda: np.repeat(np.arange(3), -1), lambda: hp.repeat(hp.arange(3), -1))


@given(arrays(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
       st.one_of(st.integers(0, 12), st.lists(st.integers(0, 5), max_size=3)))
def test_resize(a, shape):
    assert_same(hp.resize(hp.array(a), shape), np.resize(a, shape))


# -- pad -----------------------------------------------------------------------------------


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)), st.data())
def test_pad(a, data):
    mode = data.draw(st.sampled_from(["constant", "edge", "wrap", "reflect", "symmetric",
                                      "maximum", "minimum", "mean", "linear_ramp"]))
    width = data.draw(st.one_of(
        st.integers(0, 7),
        st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=a.ndim,
                 max_size=a.ndim)))
    pair = st.tuples(st.integers(1, 7), st.integers(1, 7))
    kw = {}
    if mode == "constant" and data.draw(st.booleans()):
        kw["constant_values"] = data.draw(st.sampled_from([1, (2, 3), ((0, 1),) * a.ndim]))
    if mode in ("maximum", "minimum", "mean") and data.draw(st.booleans()):
        kw["stat_length"] = data.draw(st.one_of(
            st.integers(1, 7), pair, st.lists(pair, min_size=a.ndim, max_size=a.ndim)))
    if mode == "linear_ramp" and data.draw(st.booleans()):
        kw["end_values"] = data.draw(st.sampled_from([3, (2, -5), 1.5, ((0, 7),) * a.ndim]))
    if mode in ("reflect", "symmetric") and data.draw(st.booleans()):
        kw["reflect_type"] = "odd"
    with np.errstate(all="ignore"):
        expected = np.pad(a, width, mode, **kw)
        got = hp.pad(hp.array(a), width, mode, **kw)
        assert_same(got, expected)


def test_pad_stat_length_zero():
    """A maximum/minimum of no values raises (on any axis); a mean of none is NaN."""
    a = np.arange(12).reshape(3, 4)
    for mode in ("maximum", "minimum"):
        raises_same(lambda m=mode: np.pad(a, ((0, 0), (1, 1)), m, stat_length=0),
                    lambda m=mode: hp.pad(hp.array(a), ((0, 0), (1, 1)), m, stat_length=0))
    assert_same(hp.pad(hp.zeros((0, 3)), ((0, 0), (1, 1)), "maximum", stat_length=0),
                np.pad(np.zeros((0, 3)), ((0, 0), (1, 1)), "maximum", stat_length=0))
    with pytest.warns(RuntimeWarning):
        expected = np.pad(a * 1.0, 2, "mean", stat_length=((0, 1), (2, 0)))
    with np.errstate(all="ignore"):
        got = hp.pad(hp.array(a * 1.0), 2, "mean", stat_length=((0, 1), (2, 0)))
    assert_same(got, expected)


def test_pad_widths_up_to_the_axis_length():
    """Reflecting modes at every width the fast path takes (a symmetric pad as wide as
    its axis once copied nothing)."""
    for n in (1, 2, 3):
        a = np.arange(n)
        for mode in ("symmetric", "reflect", "wrap", "edge"):
            for b in range(n + 1):
                for e in range(n + 1):
                    assert_same(hp.pad(hp.array(a), [(b, e)], mode), np.pad(a, [(b, e)], mode))


def test_pad_errors():
    raises_same(lambda: np.pad(np.zeros(3), -1), lambda: hp.pad(hp.zeros(3), -1))
    raises_same(lambda: np.pad(np.zeros(3), 1.5), lambda: hp.pad(hp.zeros(3), 1.5))
    raises_same(lambda: np.pad(np.zeros(0), 1, "edge"), lambda: hp.pad(hp.zeros(0), 1, "edge"))


# -- delete, insert, trim_zeros ---------------------------------------------------------------


def test_delete_insert():
    a = np.arange(12).reshape(3, 4)
    h = hp.array(a)
    for obj, axis in ((1, 0), ([0, 2], 1), (slice(None, None, 2), None), (-1, 1)):
        assert_same(hp.delete(h, obj, axis), np.delete(a, obj, axis))
    raises_same(lambda: np.delete(a, 5, 0), lambda: hp.delete(h, 5, 0))
    assert_same(hp.insert(h, 1, 5, axis=1), np.insert(a, 1, 5, axis=1))
    assert_same(hp.insert(h, [1, 2], [7, 8]), np.insert(a, [1, 2], [7, 8]))


def test_trim_zeros():
    a = np.array([0, 0, 1, 2, 0, 3, 0])
    for trim in ("fb", "f", "b"):
        assert_same(hp.trim_zeros(hp.array(a), trim), np.trim_zeros(a, trim))
    assert_same(hp.trim_zeros(hp.zeros(3)), np.trim_zeros(np.zeros(3)))


@settings(max_examples=10)
@given(st.integers(1, 5))
def test_joins_see_pending_writes(n):
    a = hp.zeros((n, 3))
    a += 1
    b = hp.concatenate([a, a * 2])
    a[...] = 5  # must not change b
    assert_same(b, np.concatenate([np.ones((n, 3)), 2 * np.ones((n, 3))]))
