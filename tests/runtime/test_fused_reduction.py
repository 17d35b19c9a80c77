"""Reductions of pending fused results (fusion.Sink): `np.sum(p * Ap)` is reduced by the
tasks computing `p * Ap`, chunk by chunk, and a temporary product is never stored; so are
integer sums and products, counts, max and min (exact however grouped).

Results must be the bits of the unfused reduction (fusion off), whatever the chunk, and
arrays the program still holds must keep their values.
"""

from __future__ import annotations

import numpy as np
import pytest
from compare import assert_same, runtime_with
from hypothesis import given, settings
from hypothesis import strategies as st
from test_scheduler import run_traced

import hpcarray as hp
from hpcarray._api.reductions import only_here
from hpcarray.runtime.fusion import fuser as fusion

SHAPES = [(37,), (4096,), (23, 9), (130, 70), (6, 5, 4)]


def program(xp, a, b, kind: str, reduce: str, axis, held: bool):
    """A reduction of an elementwise result: the result held in a variable or not."""
    if kind == "product":
        expr = lambda: a * b  # noqa: E731
    elif kind == "chain":
        expr = lambda: xp.sqrt(a * 0.5 + 1.0) - b / (a + 2.0)  # noqa: E731
    elif kind == "cast":
        expr = lambda: (a - b).astype(np.float32) * 3.0  # noqa: E731
    elif kind == "bool":  # counts: grouped any way, the same
        expr = lambda: a * a + b * b <= 1.0  # noqa: E731
    else:
        expr = lambda: (a * 100.0).astype(np.int64) % 7 - 3  # noqa: E731
    fn = {"sum": xp.sum, "prod": xp.prod, "mean": xp.mean, "var": xp.var,
          "norm": xp.linalg.norm, "max": xp.max, "min": xp.min, "method": xp.sum}[reduce]
    if held:
        t = expr()
        return fn(t, axis=axis), t
    if reduce == "method":
        return expr().sum(axis=axis), None
    return fn(expr(), axis=axis), None


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(SHAPES), st.sampled_from(["product", "chain", "cast", "bool", "int"]),
       st.sampled_from(["sum", "prod", "mean", "var", "norm", "max", "min", "method"]),
       st.integers(-1, 2),
       st.booleans(),
       st.sampled_from([1, 700, 1 << 21]), st.sampled_from(["auto", "always"]))
def test_fused_reductions_give_the_unfused_bits(shape, kind, reduce, axis, held, chunk_bytes,
                                                 jit):
    """Chunks of one block of rows, a few, or whole tiles; blocked NumPy or compiled."""
    axis = None if axis == 2 or axis >= len(shape) else axis
    rng = np.random.default_rng(len(shape))
    a, b = rng.random(shape) + 0.5, rng.random(shape)
    saved, fusion.SINK_CHUNK_BYTES = fusion.SINK_CHUNK_BYTES, chunk_bytes
    try:
        results = {}
        for fused in (True, False):
            with runtime_with(test_mode=False, min_split_elements=64, workers=3, jit=jit,
                              fusion=fused):
                got, t = program(hp, hp.asarray(a), hp.asarray(b), kind, reduce, axis, held)
                results[fused] = (np.asarray(got), None if t is None else np.asarray(t))
        assert results[True][0].dtype == results[False][0].dtype
        np.testing.assert_array_equal(results[True][0], results[False][0], strict=True)
        if held:  # the array held keeps its values
            np.testing.assert_array_equal(results[True][1], results[False][1])
        expected, _ = program(np, a, b, kind, reduce, axis, held)
        np.testing.assert_allclose(results[True][0], expected, rtol=1e-5)
    finally:
        fusion.SINK_CHUNK_BYTES = saved


def test_a_temporary_is_reduced_without_being_stored(tmp_path):
    records = run_traced(tmp_path, """
        import hpcarray as np
        p, q = np.random.rand(600, 600), np.random.rand(600, 600)
        for _ in range(2):
            print(float(np.sum(p * q)), float((p - q).sum()))
        t = p * q
        print(float(np.sum(t)), float(t[3, 4]))
    """)
    ops = [r for r in records if r["type"] == "op"]
    reducing = [r for r in ops if r["name"] in ("multiply", "subtract")]
    # The two temporaries of each iteration are computed and reduced by one operation
    # each, which stores nothing; the combining operations only take the partials.
    assert [len(r["writes"]) for r in reducing] == [0, 0, 0, 0, 1], reducing
    assert not any(r["name"] == "add.reduce" and r["reads"] for r in ops)


def test_only_a_temporary_passed_straight_in_counts_as_one():
    a = hp.ones((300, 300))

    def probe(x):
        found = only_here(x)
        return found

    # (not inside `assert`: pytest's rewriting of it holds the values it shows)
    temporary = probe(a * 2)
    held = a * 2
    found = [probe(held), probe(held[:]), probe((a * 2)[:]), probe(np.ones(3))]
    assert temporary
    # held; a view of a held store; a view whose base array is gone (nothing else can
    # read its store: a temporary too); a NumPy array
    assert found == [False, False, True, False]


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 21])
def test_held_results_and_views_keep_their_values(chunk_bytes):
    saved, fusion.SINK_CHUNK_BYTES = fusion.SINK_CHUNK_BYTES, chunk_bytes
    try:
        with runtime_with(test_mode=False, min_split_elements=64, workers=2):
            rng = np.random.default_rng(1)
            a, b = rng.random((90, 40)), rng.random((90, 40))
            x, y = hp.asarray(a), hp.asarray(b)
            t = x * y
            v = t[:]
            assert_same(hp.sum(v), np.sum(a * b), exact=False)
            np.testing.assert_array_equal(np.asarray(t), a * b)
            u = x + y
            w = u.reshape(40, 90)
            assert_same(u.sum(), np.sum(a + b), exact=False)
            np.testing.assert_array_equal(np.asarray(w), (a + b).reshape(40, 90))
    finally:
        fusion.SINK_CHUNK_BYTES = saved
