"""Indexing: basic views, advanced reads and writes, and the indexing routines, against
NumPy (values, dtypes, shapes, memory sharing, errors)."""

import numpy as np
import pytest
from compare import assert_same, dtypes, raises_same
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hpcarray as hp

pytestmark = pytest.mark.filterwarnings("error::hpcarray.FallbackWarning")

shapes = hnp.array_shapes(min_dims=0, max_dims=6, min_side=0, max_side=4)


def arrays(shape=shapes, dtype=dtypes):
    return hnp.arrays(dtype, shape)


@st.composite
def basic_keys(draw, shape):
    """Ints (also negative), slices with any steps, Ellipsis, newaxis."""
    dims = list(shape)

    def item_for(n, out):
        kind = draw(st.sampled_from(["int", "slice", "slice", "none"] if n else
                                    ["slice", "none"]))
        if kind == "int":
            out.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            step = draw(st.one_of(st.none(), st.integers(-3, 3).filter(bool)))
            out.append(slice(draw(st.one_of(st.none(), st.integers(-n - 2, n + 2))),
                             draw(st.one_of(st.none(), st.integers(-n - 2, n + 2))), step))
        else:
            out.append(None)
            out.append(slice(None))

    n_lead = draw(st.integers(0, len(dims)))
    items: list = []
    for n in dims[:n_lead]:
        item_for(n, items)
    if draw(st.booleans()):
        n_trail = draw(st.integers(0, len(dims) - n_lead))
        items.append(Ellipsis)
        for n in dims[len(dims) - n_trail:]:
            item_for(n, items)
    if draw(st.booleans()):
        items.append(None)
    return tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]


@given(arrays(), st.data())
def test_basic_indexing_views(a, data):
    key = data.draw(basic_keys(a.shape))
    h = hp.array(a)
    got, exp = h[key], a[key]
    assert_same(got, exp)
    if isinstance(exp, np.ndarray) and exp.size:
        # a write through the view is seen through the base, as in NumPy
        b = a.copy()
        b[key][...] = b[key].ravel()[0]
        got[...] = got.ravel()[0]
        assert_same(h, b)


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)), st.data())
def test_chained_views_write(a, data):
    h, b = hp.array(a), a.copy()
    k1 = data.draw(basic_keys(a.shape))
    v_np, v_hp = b[k1], h[k1]
    if not isinstance(v_np, np.ndarray) or v_np.ndim == 0:
        return
    k2 = data.draw(basic_keys(v_np.T.shape))
    w_np, w_hp = v_np.T[k2], v_hp.T[k2]
    if not isinstance(w_np, np.ndarray) or not w_np.size:
        return
    w_np[...] = a.flat[0]
    w_hp[...] = a.flat[0]
    assert_same(h, b)
    assert_same(v_hp, v_np)


def test_overlapping_assignments():
    for stmt in ("x[1:] = x[:-1]", "x[:-1] = x[1:]", "x[::-1] += x", "x[::2] = x[1::2] * 2",
                 "x[...] = x[::-1]"):
        a = np.arange(10.0)
        h = hp.arange(10.0)
        exec(stmt, {"x": a})
        exec(stmt, {"x": h})
        assert_same(h, a)
    a = np.arange(12).reshape(3, 4)
    h = hp.array(a)
    a[:, 1:] = a[:, :-1].T.T
    h[:, 1:] = h[:, :-1].T.T
    assert_same(h, a)


@st.composite
def advanced_case(draw):
    a = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)))
    kind = draw(st.sampled_from(["int", "bool", "mixed", "multi", "boolfull"]))
    n = a.shape[0]
    if kind == "int":
        key = draw(hnp.arrays(np.intp, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0,
                                                       max_side=3),
                              elements=st.integers(-n, n - 1)))
    elif kind == "bool":
        key = draw(hnp.arrays(np.bool_, (n,)))
    elif kind == "boolfull":
        key = draw(hnp.arrays(np.bool_, a.shape))
    elif kind == "mixed":
        idx = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))
        key = (slice(None, None, -1), idx) if a.ndim > 1 and draw(st.booleans()) else (
            idx, Ellipsis)
        if a.ndim > 1 and isinstance(key[0], slice):
            m = a.shape[1]
            key = (slice(1, None), [i % m for i in idx])
    else:
        idx = [draw(st.lists(st.integers(0, s - 1), min_size=2, max_size=2))
               for s in a.shape]
        key = tuple(idx)
    return a, key


def _hp_key(key):
    if isinstance(key, np.ndarray):
        return hp.array(key)
    return key


@given(advanced_case())
def test_advanced_get_set(case):
    a, key = case
    h = hp.array(a)
    assert_same(h[_hp_key(key)], a[key])
    b = a.copy()
    val = a.flat[0]
    b[key] = val
    h[_hp_key(key)] = val
    assert_same(h, b)
    # x[idx] += 1 (read, add, write), as NumPy does
    if a.dtype.kind in "iuf":
        b[key] += 1
        h[_hp_key(key)] += 1
        assert_same(h, b)


@given(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=9),
       hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=9), st.integers(0, 9))
def test_index_arrays_of_the_result_shape(shape, ishape, seed):
    """One hpcarray integer array per axis, all of the result's shape: across ranks each
    rank reads just its own tiles of them (never gathered); NumPy's values and errors."""
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    h = hp.array(a)
    idx = [rng.integers(-n, n, ishape) for n in shape]
    assert_same(h[tuple(hp.array(i) for i in idx)], a[tuple(idx)])
    if a.ndim == 1:
        for mode in ("raise", "wrap", "clip"):
            wide = rng.integers(-3 * a.size, 3 * a.size, ishape) if mode != "raise" else idx[0]
            assert_same(hp.take(h, hp.array(wide), mode=mode), np.take(a, wide, mode=mode))
    if idx[0].size:
        bad = [i.copy() for i in idx]
        bad[-1].flat[-1] = shape[-1] + 2
        bad[0].flat[0] = -shape[0] - 1
        raises_same(lambda: a[tuple(bad)], lambda: h[tuple(hp.array(i) for i in bad)])
        if a.ndim == 1:
            raises_same(lambda: np.take(a, bad[0]), lambda: hp.take(h, hp.array(bad[0])))


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
       hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5), st.data())
def test_index_arrays_among_slices(shape, ishape, data):
    """Adjacent hpcarray index arrays among slices (`x[perm]` of an N-D x, `x[:, cols]`,
    `x[::2, i, j, ...]`): across ranks the result is tiled like the index arrays and each
    rank reads just its own index tiles. NumPy's values and errors."""
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    a = rng.random(shape)
    h = hp.array(a)
    at = data.draw(st.integers(0, a.ndim - 1))
    nb = data.draw(st.integers(1, a.ndim - at))
    idx = [rng.integers(-n, n, ishape) for n in shape[at:at + nb]]
    pre = [data.draw(st.slices(n)) for n in shape[:at]]
    post = [data.draw(st.slices(n)) for n in shape[at + nb:]]
    if post and data.draw(st.booleans()):
        post = [Ellipsis]
    key = (*pre, *idx, *post)
    assert_same(h[(*pre, *(hp.array(i) for i in idx), *post)], a[key])
    if idx[0].size:
        bad = [i.copy() for i in idx]
        bad[-1].flat[-1] = shape[at + nb - 1] + 1
        raises_same(lambda: a[(*pre, *bad, *post)],
                    lambda: h[(*pre, *(hp.array(i) for i in bad), *post)])


def test_advanced_mixed_and_values():
    a = np.arange(24).reshape(2, 3, 4)
    h = hp.array(a)
    for key in [(1, [0, 2]), (slice(None), [0, 2], 1), ([0, 1], slice(None), [1, 3]),
                (Ellipsis, [3, 0]), (a > 10,), ([True, False],), (None, [1], 0)]:
        assert_same(h[key], a[key])
    a[1:, [0, 2]] = np.array([[5], [6]])
    h[1:, [0, 2]] = hp.array([[5], [6]])
    assert_same(h, a)
    a[a > 20] = -a[a > 20]
    h[h > 20] = -h[h > 20]
    assert_same(h, a)
    x = np.arange(5)
    hx = hp.arange(5)
    x[[0, 1, 2]] = x[[2, 1, 0]]
    hx[[0, 1, 2]] = hx[[2, 1, 0]]
    assert_same(hx, x)
    assert_same(hx[np.array(1)], x[np.array(1)])


def test_index_errors():
    a = np.arange(6).reshape(2, 3)
    h = hp.array(a)
    for key in [5, (0, 5), (0, 0, 0), ([5],), (0, [3]), (np.array([True, False, True]),),
                (1.5,), ([0, 1], [0, 1, 2]), (Ellipsis, Ellipsis), (slice(None), -4)]:
        raises_same(lambda k=key: a[k], lambda k=key: h[k])
    raises_same(lambda: a.__setitem__([0, 1], np.ones(3)[:2, None, None]),
                lambda: h.__setitem__([0, 1], hp.ones(3)[:2, None, None]))
    raises_same(lambda: a.__setitem__((0, [7]), 1), lambda: h.__setitem__((0, [7]), 1))
    raises_same(lambda: a.__setitem__(0, [1, 2]), lambda: h.__setitem__(0, [1, 2]))
    raises_same(lambda: np.int8([1]).__setitem__([0], 300),
                lambda: hp.array([1], np.int8).__setitem__([0], 300))


def test_readonly_views():
    h = hp.broadcast_to(hp.arange(3), (2, 3))
    with pytest.raises(ValueError, match="read-only"):
        h[0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        h[[0]] = 1


# -- routines ------------------------------------------------------------------------------


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), st.data())
def test_take_and_along_axis(a, data):
    h = hp.array(a)
    axis = data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)))
    n = a.size if axis is None else a.shape[axis]
    idx = data.draw(hnp.arrays(np.intp, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                               elements=st.integers(-n, n - 1)))
    assert_same(hp.take(h, idx, axis=axis), np.take(a, idx, axis=axis))
    assert_same(h.take(hp.array(idx), axis=axis), a.take(idx, axis=axis))
    ax = axis if axis is not None else -1
    if a.ndim:
        ishape = list(a.shape)
        ishape[ax] = data.draw(st.integers(0, 3))
        m = a.shape[ax]
        ind = data.draw(hnp.arrays(np.intp, tuple(ishape), elements=st.integers(-m, m - 1)))
        assert_same(hp.take_along_axis(h, ind, axis=ax), np.take_along_axis(a, ind, axis=ax))
        assert_same(hp.take_along_axis(h, hp.array(ind), axis=ax),
                    np.take_along_axis(a, ind, axis=ax))
        b = a.copy()
        np.put_along_axis(b, ind, a.flat[0], axis=ax)
        hp.put_along_axis(h, hp.array(ind), a.flat[0], axis=ax)
        assert_same(h, b)
    flat = data.draw(hnp.arrays(np.intp, data.draw(st.integers(0, 5)),
                                elements=st.integers(-a.size, a.size - 1)))
    b, h = a.copy(), hp.array(a)
    np.put_along_axis(b, flat, a.flat[-1], None)
    hp.put_along_axis(h, flat, a.flat[-1], None)
    assert_same(h, b)


def test_put_along_axis_flat_errors():
    a = np.zeros((3, 4))
    h = hp.array(a)
    for idx in (np.array([[1, 2]]), np.array([13]), np.array([1.5])):
        raises_same(lambda idx=idx: np.put_along_axis(a, idx, 1.0, None),
                    lambda idx=idx: hp.put_along_axis(h, idx, 1.0, None))
    raises_same(lambda: np.put_along_axis(a, np.array([1, 2]), np.ones(3), None),
                lambda: hp.put_along_axis(h, np.array([1, 2]), np.ones(3), None))


def test_take_put_errors_and_modes():
    a = np.arange(6).reshape(2, 3)
    h = hp.array(a)
    raises_same(lambda: np.take(a, [7]), lambda: hp.take(h, [7]))
    raises_same(lambda: np.take(a, [5], axis=1), lambda: hp.take(h, [5], axis=1))
    for mode in ("wrap", "clip"):
        assert_same(hp.take(h, [7, -9], mode=mode), np.take(a, [7, -9], mode=mode))
    assert_same(hp.take(h, 4), np.take(a, 4))
    raises_same(lambda: a.copy().put([10], [1]), lambda: h.put([10], [1]))
    b = a.copy()
    b.T.put([0, 1, 5], [9, 8])
    h.T.put([0, 1, 5], [9, 8])
    assert_same(h, b)
    np.put(b, [20, -30], [1, 2], mode="wrap")
    hp.put(h, [20, -30], [1, 2], mode="wrap")
    assert_same(h, b)
    raises_same(lambda: np.put([1], [0], 1), lambda: hp.put([1], [0], 1))


def test_place_putmask_choose_select():
    a = np.arange(12.0).reshape(3, 4)
    h = hp.array(a)
    np.place(a, a > 5, [1, 2, 3])
    hp.place(h, h > 5, [1, 2, 3])
    assert_same(h, a)
    raises_same(lambda: np.place(a, a > -1, []), lambda: hp.place(h, h > -1, []))
    np.putmask(a, a < 3, [7, 8])
    hp.putmask(h, h < 3, [7, 8])
    assert_same(h, a)
    raises_same(lambda: np.putmask(a, [True], 1), lambda: hp.putmask(h, [True], 1))
    # A mask of another shape (same size) and values cycled by flat position.
    mask = (np.arange(12) % 5 == 1).reshape(4, 3)
    np.putmask(a, mask, [-1.0, -2.0, -3.0])
    hp.putmask(h, hp.array(mask), hp.array([-1.0, -2.0, -3.0]))
    assert_same(h, a)
    idx = np.array([[0, 1, 2, 0], [2, 2, 1, 0], [1, 0, 0, 2]])
    choices = [np.arange(4), np.full((3, 4), 10, np.int8), 100]
    assert_same(hp.choose(hp.array(idx), [hp.array(c) if isinstance(c, np.ndarray) else c
                                          for c in choices]), np.choose(idx, choices))
    assert_same(hp.choose(idx + 2, choices, mode="wrap"), np.choose(idx + 2, choices,
                                                                     mode="wrap"))
    raises_same(lambda: np.choose(idx + 1, choices), lambda: hp.choose(idx + 1, choices))
    x = np.arange(10)
    hx = hp.arange(10)
    assert_same(hp.select([hx < 3, hx > 5], [hx, hx ** 2], 42.5),
                np.select([x < 3, x > 5], [x, x ** 2], 42.5))
    raises_same(lambda: np.select([x], [x]), lambda: hp.select([hx], [hx]))
    raises_same(lambda: np.select([], []), lambda: hp.select([], []))
    raises_same(lambda: np.select([x < 1], []), lambda: hp.select([hx < 1], []))


@given(arrays(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)))
def test_nonzero_family(a):
    h = hp.array(a)
    if a.ndim:
        assert_same(hp.nonzero(h), np.nonzero(a))
        assert_same(h.nonzero(), a.nonzero())
    assert_same(hp.argwhere(h), np.argwhere(a))
    assert_same(hp.flatnonzero(h), np.flatnonzero(a))
    cond = a.astype(bool).ravel()
    assert_same(hp.extract(cond, h), np.extract(cond, a))
    if a.ndim:
        c0 = np.ones(a.shape[0], bool)
        c0[::2] = False
        assert_same(hp.compress(c0, h, axis=0), np.compress(c0, a, axis=0))
    assert_same(hp.compress(cond, h), np.compress(cond, a))


def test_index_generators():
    assert_same(hp.diag_indices(3), np.diag_indices(3))
    assert_same(hp.tril_indices(4, 1), np.tril_indices(4, 1))
    assert_same(hp.triu_indices(3, -1, 5), np.triu_indices(3, -1, 5))
    z = np.zeros((3, 3))
    assert_same(hp.diag_indices_from(hp.array(z)), np.diag_indices_from(z))
    assert_same(hp.tril_indices_from(hp.array(z)), np.tril_indices_from(z))
    assert_same(hp.ix_([0, 1], hp.array([2, 3])), np.ix_([0, 1], np.array([2, 3])))
    a = np.arange(20).reshape(4, 5)
    h = hp.array(a)
    assert_same(h[hp.ix_([0, 2], [1, 3])], a[np.ix_([0, 2], [1, 3])])
    assert_same(hp.unravel_index(hp.array([3, 7]), (2, 5)), np.unravel_index([3, 7], (2, 5)))
    assert_same(hp.unravel_index(7, (2, 5)), np.unravel_index(7, (2, 5)))
    assert_same(hp.ravel_multi_index(([1, 0], [2, 3]), (2, 5)),
                np.ravel_multi_index(([1, 0], [2, 3]), (2, 5)))
    np.fill_diagonal(a, 99)
    hp.fill_diagonal(h, 99)
    assert_same(h, a)


def test_flat():
    a = np.arange(12.0).reshape(3, 4)
    h = hp.array(a)
    assert_same(h.flat[5], a.flat[5])
    assert_same(h.flat[2:9:3], a.flat[2:9:3])
    assert_same(h.flat[[1, 10]], a.flat[[1, 10]])
    assert_same(h.T.flat[[1, 10]], a.T.flat[[1, 10]])
    h.T.flat[[1, 10]] = [7, 8]
    a.T.flat[[1, 10]] = [7, 8]
    assert_same(h, a)
    h.flat[::2] = [-1, -2]  # repeated cyclically, as in NumPy
    a.flat[::2] = [-1, -2]
    assert_same(h, a)
    raises_same(lambda: a.flat[12], lambda: h.flat[12])
    assert list(h.flat) == list(a.flat)


def test_pending_index_arrays_are_captured():
    a = hp.arange(5)
    a += 0  # something pending
    idx = np.array([0, 1])
    r = a[idx]
    idx[0] = 4
    assert_same(r, np.array([0, 1]))
