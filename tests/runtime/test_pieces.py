"""Joins read in place (runtime/pieces.py): `np.concatenate` and `np.roll` of big arrays
become one fused copy whose operand is the pieces, cut per tile where they meet; a joined
temporary inside an expression is never written. Results stay NumPy's, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from compare import assert_same, runtime_with
from hypothesis import given, settings
from hypothesis import strategies as st
from test_scheduler import run_traced, tasks_by_op

import hpcarray as hp
from hpcarray.runtime.fusion.pieces import Part, Pieces, split


def test_split_cuts_a_tile_where_pieces_meet():
    def pieces(axis, bounds):
        parts = tuple(Part(lo, hi, None) for lo, hi in zip(bounds[:-1], bounds[1:]))
        return Pieces(axis, parts, np.dtype(float))

    east = pieces(1, [0, 9, 10])
    west = pieces(1, [0, 1, 10])
    rows = pieces(0, [0, 1, 7, 8])
    assert split(((0, 4), (0, 10)), [east]) == [((0, 4), (0, 9)), ((0, 4), (9, 10))]
    assert split(((0, 4), (0, 10)), [east, west]) == [
        ((0, 4), (0, 1)), ((0, 4), (1, 9)), ((0, 4), (9, 10))]
    assert split(((2, 5), (3, 6)), [east, west]) == [((2, 5), (3, 6))]  # no cut inside
    assert split(((0, 4), (0, 10)), [rows, east]) == [
        ((0, 1), (0, 9)), ((0, 1), (9, 10)), ((1, 4), (0, 9)), ((1, 4), (9, 10))]


def periodic(xp, a, axis):
    """Each point's neighbour one step further along `axis`, wrapping around."""
    n = a.shape[axis]
    take = [slice(None)] * a.ndim
    head, tail = list(take), list(take)
    head[axis], tail[axis] = slice(1, n), slice(0, 1)
    return xp.concatenate([a[tuple(head)], a[tuple(tail)]], axis=axis)


join = st.one_of(
    st.tuples(st.just("periodic"), st.integers(0, 1)),
    st.tuples(st.just("roll"), st.integers(-9, 9), st.integers(0, 1)),
    st.tuples(st.just("edges"), st.integers(0, 1)),  # rows/columns repeated at the ends
)
use = st.sampled_from(["expression", "held", "assign_back", "reduce"])


def run_join(xp, grid, j, how):
    g = xp.asarray(grid.copy())
    inner = g[1:-1, 1:-1]
    if j[0] == "periodic":
        joined = lambda: periodic(xp, inner, j[1])  # noqa: E731
    elif j[0] == "roll":
        joined = lambda: xp.roll(inner, j[1], axis=j[2])  # noqa: E731
    else:
        ax = j[1]
        first = inner[:1] if ax == 0 else inner[:, :1]
        last = inner[-1:] if ax == 0 else inner[:, -1:]
        joined = lambda: xp.concatenate([first, inner, last], axis=ax)  # noqa: E731
    if how == "expression":
        out = (joined() + inner * 2) / 3 if j[0] != "edges" else joined() * 0.5
        return [g, out]
    if how == "held":
        a = joined()
        b = a - 1
        return [g, a, b]
    if how == "assign_back":  # writes what the pieces read: NumPy reads them first
        a = joined()
        inner[...] = a if j[0] != "edges" else (a[1:-1] if j[1] == 0 else a[:, 1:-1]) + a[:1, :1]
        return [g, a]
    return [g, xp.sum(joined() * 2)]


@settings(max_examples=60, deadline=None)
@given(join, use, st.sampled_from([np.float64, np.float32, np.int64]),
       st.integers(3, 9), st.integers(3, 9))
def test_joins_match_numpy(j, how, dtype, n, m):
    grid = (np.random.default_rng(n * 10 + m).uniform(-5, 5, (n, m)) * 4).astype(dtype)
    for got, expected in zip(run_join(hp, grid, j, how), run_join(np, grid, j, how)):
        assert_same(got, expected)


@settings(max_examples=15, deadline=None)
@given(join, use, st.integers(3, 9), st.integers(3, 9))
def test_joins_compiled_match_numpy(j, how, n, m):
    pytest.importorskip("numba")
    grid = np.random.default_rng(n * 10 + m).uniform(-5, 5, (n, m))
    with runtime_with(jit="always"):
        for got, expected in zip(run_join(hp, grid, j, how), run_join(np, grid, j, how)):
            assert_same(got, expected)


def test_joins_of_other_dtypes_or_with_what_the_group_writes_stay_right():
    x = np.arange(40.0).reshape(5, 8)
    h = hp.asarray(x)
    # Pieces of different dtypes: cast by the eager copies, not joined in place.
    assert_same(hp.concatenate([h[:, :3], h[:, 3:].astype(np.float32)], axis=1),
                np.concatenate([x[:, :3], x[:, 3:].astype(np.float32)], axis=1))
    # Pieces of a result the pending group computes (other windows of it).
    a, b = h * 2, x * 2
    assert_same(periodic(hp, a, 1) + a, periodic(np, b, 1) + b)
    # Periodic in both axes: two joins in one group, cut in both directions.
    assert_same(periodic(hp, h, 0) + periodic(hp, h, 1), periodic(np, x, 0) + periodic(np, x, 1))


def test_a_joined_temporary_is_never_written(tmp_path):
    """The periodic neighbour inside an expression: one fused operation, which writes
    only the expression's result (and reads the grid)."""
    records = run_traced(tmp_path, """
        import hpcarray as np
        x = np.random.rand(400, 500)
        y = (np.concatenate([x[:, 1:], x[:, :1]], axis=1) + np.roll(x, 1, axis=1)) * 0.5
        print(float(y.sum()))
        """, HPCARRAY_MIN_SPLIT="1000")
    by_op = tasks_by_op(records)
    assert not any(name in ("concatenate", "roll") for name in by_op), sorted(by_op)
    fused = [r for r in records if r["type"] == "op" and "concatenate" in r["name"]]
    assert len(fused) == 1 and "roll" in fused[0]["name"], fused
    assert len(fused[0]["writes"]) == 1  # y alone, not the joined temporaries
