"""Chains (runtime/fusion/chain.py): consecutive groups updating windows of one array run chunk
of rows by chunk of rows in one pass, with NumPy's values bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from compare import assert_same, runtime_with
from hypothesis import given, settings
from hypothesis import strategies as st
from test_scheduler import run_traced

import hpcarray as hp
from hpcarray.runtime.backend.cpu import chain_driver
from hpcarray.runtime.fusion import inplace

N, M = 23, 9


def window(draw_int):
    r0, r1 = sorted((draw_int(0, N), draw_int(0, N)))
    c0, c1 = sorted((draw_int(0, M), draw_int(0, M)))
    return slice(r0, max(r1, r0 + 1)), slice(c0, max(c1, c0 + 1))


@st.composite
def updates(draw):
    """A program: S = d * u, then updates of windows of S from windows of u (of the same
    shape, shifted), scalars, or S's own window; now and then a strided window or a read of
    another window of S (which no chain may take: the groups then run one by one)."""
    def draw_int(lo, hi):
        return draw(st.integers(lo, hi))
    prog = []
    for _ in range(draw(st.integers(1, 7))):
        rows, cols = window(draw_int)
        kind = draw(st.sampled_from(["sub", "add", "mul", "set", "own", "strided", "shifted"]))
        prog.append((kind, rows, cols, draw(st.integers(-1, 1)), draw(st.integers(-1, 1))))
    return prog


def run(xp, prog, d, u):
    d, u = xp.asarray(d), xp.asarray(u)
    s = d * u
    for kind, rows, cols, dr, dc in prog:
        n, m = rows.stop - rows.start, cols.stop - cols.start
        r0 = min(max(rows.start + dr, 0), N - n)
        c0 = min(max(cols.start + dc, 0), M - m)
        other = u[r0:r0 + n, c0:c0 + m]
        if kind == "sub":
            s[rows, cols] -= other
        elif kind == "add":
            s[rows, cols] += 0.5 * other
        elif kind == "mul":
            s[rows, cols] *= other
        elif kind == "set":
            s[rows, cols] = 1.25
        elif kind == "own":
            s[rows, cols] = s[rows, cols] * 2.0 - other
        elif kind == "strided":
            s[rows.start::2, cols] -= 1.0
        else:
            s[rows, cols] += s[r0:r0 + n, c0:c0 + m]
    return s


@given(updates(), st.sampled_from([1, 100, 1 << 21]))
def test_window_updates_match_numpy(prog, chunk_bytes):
    """Chunks of one row, a few rows, or whole tiles."""
    rng = np.random.default_rng(3)
    d, u = 4.0 + rng.random((N, M)), rng.random((N, M))
    saved, inplace.CHUNK_BYTES = inplace.CHUNK_BYTES, chunk_bytes
    try:
        got = run(hp, prog, d, u)
        assert_same(got, run(np, prog, d, u))
    finally:
        inplace.CHUNK_BYTES = saved


@settings(max_examples=12, deadline=None)
@given(updates(), st.sampled_from([1, 500, 1 << 21]))
def test_window_updates_compiled_match_numpy(prog, chunk_bytes):
    """Compiled, the chain's parts run inside one compiled driver (chain_driver.run):
    chunks of one row, a few rows, or whole tiles. (Few examples: each compiles.)"""
    pytest.importorskip("numba")
    rng = np.random.default_rng(4)
    d, u = 4.0 + rng.random((N, M)), rng.random((N, M))
    saved, chain_driver.DRIVER_CHUNK_BYTES = chain_driver.DRIVER_CHUNK_BYTES, chunk_bytes
    try:
        with runtime_with(jit="always"):
            assert_same(run(hp, prog, d, u), run(np, prog, d, u))
    finally:
        chain_driver.DRIVER_CHUNK_BYTES = saved


def test_a_five_point_operator_is_one_chained_operation(tmp_path):
    records = run_traced(tmp_path, """
        import hpcarray as np
        d = 4.0 + np.random.rand(600, 600)
        u = np.random.rand(600, 600)
        for _ in range(2):
            Au = d * u
            Au[1:, :] -= u[:-1, :]
            Au[:-1, :] -= u[1:, :]
            Au[:, 1:] -= u[:, :-1]
            Au[:, :-1] -= u[:, 1:]
            print(float(Au.sum()))
    """)
    names = [r["name"] for r in records if r["type"] == "op" and "+" in r["name"]]
    # per application: one operation, `d * u` then the four window updates chunk by chunk
    # in one pass (the first application also computes `d` with it)
    assert names[-1] == "multiply" + "+subtract" * 4, names
    assert len(names) == 2 and names[0].endswith("+subtract" * 4), names
