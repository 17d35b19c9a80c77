"""Fusion: chains of elementwise operations run as one kernel per tile, with NumPy's
results bit for bit, whatever the aliasing between what they read and write.

Random programs over overlapping views of one grid (the stencil's pattern) and fresh
temporaries are run by NumPy and by hpcarray (tiny tiles), with the blocked-NumPy kernels
and with the numba-compiled ones forced on every tile.
"""

from __future__ import annotations

import numpy as np
import pytest
from compare import assert_same, runtime_with
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_scheduler import run_traced

import hpcarray as hp
from hpcarray.runtime import get_runtime
from hpcarray.runtime.backend.cpu import kernels

VIEWS = {  # the stencil's five views of an (n+2) x (m+2) grid, and one reversed
    "center": (slice(1, -1), slice(1, -1)), "north": (slice(0, -2), slice(1, -1)),
    "south": (slice(2, None), slice(1, -1)), "east": (slice(1, -1), slice(2, None)),
    "west": (slice(1, -1), slice(0, -2)), "flipped": (slice(-2, 0, -1), slice(1, -1)),
}
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "less", "where"]
UNARY = ["negative", "sqrt", "square", "absolute"]

operand = st.one_of(st.sampled_from(sorted(VIEWS)), st.sampled_from(["t0", "t1", "t2"]),
                    st.sampled_from([0.2, 3, -1.5]))
statement = st.one_of(
    st.tuples(st.just("binary"), st.sampled_from(["t0", "t1", "t2"]), st.sampled_from(BINARY),
              operand, operand),
    st.tuples(st.just("unary"), st.sampled_from(["t0", "t1", "t2"]), st.sampled_from(UNARY),
              operand),
    st.tuples(st.just("assign"), st.sampled_from(sorted(VIEWS)), operand),
    st.tuples(st.just("inplace"), st.sampled_from(sorted(VIEWS)), st.sampled_from(BINARY[:3]),
              operand),
    st.tuples(st.just("del"), st.sampled_from(["t0", "t1", "t2"])),
    st.tuples(st.just("astype"), st.sampled_from(["t0", "t1", "t2"]), operand),
)


def run_program(xp, program, grid, dtype):
    """Run `program` with module xp; returns the grid and the live temporaries."""
    grid = xp.asarray(grid.copy())
    env = {name: grid[key] for name, key in VIEWS.items()}
    temps = {}

    def value(x):
        if isinstance(x, str):
            return env[x] if x in env else temps.get(x, env["center"])
        return x

    with np.errstate(all="ignore"):
        for s in program:
            if s[0] == "binary" and s[2] == "where":
                temps[s[1]] = xp.where(xp.less(value(s[3]), 0.5), value(s[3]), value(s[4]))
            elif s[0] == "binary":
                temps[s[1]] = getattr(xp, s[2])(value(s[3]), value(s[4]))
            elif s[0] == "unary":
                temps[s[1]] = getattr(xp, s[2])(value(s[3]))
            elif s[0] == "assign":
                env[s[1]][...] = value(s[2])
            elif s[0] == "inplace":
                getattr(xp, s[2])(env[s[1]], value(s[3]), out=env[s[1]], casting="unsafe")
            elif s[0] == "del":
                temps.pop(s[1], None)
            else:
                v = value(s[2])
                temps[s[1]] = xp.asarray(v).astype(dtype) if not isinstance(v, str) else v
    return grid, temps


def check_program(program, dtype):
    rng = np.random.default_rng(7)
    grid = rng.uniform(-2, 2, (9, 8)).astype(dtype)
    try:
        exp_grid, exp_temps = run_program(np, program, grid, dtype)
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. NaN into an int grid
        with pytest.raises(type(exc)):
            run_program(hp, program, grid, dtype)
        return
    got_grid, got_temps = run_program(hp, program, grid, dtype)
    assert_same(got_grid, exp_grid)
    for name, expected in exp_temps.items():
        got = got_temps[name]
        if isinstance(expected, np.ndarray):
            assert_same(got, expected)


@given(st.lists(statement, min_size=1, max_size=12),
       st.sampled_from([np.float64, np.float32, np.int64]))
def test_random_programs_match_numpy(program, dtype):
    check_program(program, dtype)


@given(st.lists(statement, min_size=1, max_size=12),
       st.sampled_from([np.float64, np.float32, np.int64]), st.sampled_from([1, 200, 1 << 20]))
@example([("unary", "t0", "sqrt", -1.5), ("assign", "center", "t0")], np.int64, 1)  # NaN
def test_random_programs_in_row_slabs_match_numpy(program, dtype, chunk_bytes):
    """Tiles of whole rows: a write over windows the group reads runs in place
    (inplace.py), in chunks of one row, a few rows, or the whole tile."""
    check_in_row_slabs(program, dtype, chunk_bytes, "off")


@settings(max_examples=10)
@given(st.lists(statement, min_size=1, max_size=12), st.sampled_from([np.float64, np.int64]),
       st.sampled_from([1, 1 << 20]))
def test_random_programs_in_row_slabs_compiled_match_numpy(program, dtype, chunk_bytes):
    pytest.importorskip("numba")
    check_in_row_slabs(program, dtype, chunk_bytes, "always")


@pytest.mark.parametrize("chunk_bytes", [1, 300, 1 << 20])
def test_two_grids_updated_in_place_in_one_group(chunk_bytes):
    """Gray-Scott's step writes both of its grids over what it reads of them: one group,
    both written in place, NumPy's values."""
    from programs import gray_scott_step

    from hpcarray.runtime.fusion import inplace

    rng = np.random.default_rng(3)
    U0, V0 = rng.random((23, 17)), rng.random((23, 17))
    saved = inplace.CHUNK_BYTES
    inplace.CHUNK_BYTES = chunk_bytes
    try:
        with runtime_with(test_mode=False, min_split_elements=8, workers=3):
            U, V = hp.array(U0), hp.array(V0)
            for _ in range(4):
                gray_scott_step(hp, U, V)
                gray_scott_step(np, U0, V0)
            assert_same(U, U0)
            assert_same(V, V0)
    finally:
        inplace.CHUNK_BYTES = saved


def check_in_row_slabs(program, dtype, chunk_bytes: int, jit: str) -> None:
    from hpcarray.runtime.fusion import inplace

    saved = inplace.CHUNK_BYTES
    inplace.CHUNK_BYTES = chunk_bytes
    try:
        with runtime_with(test_mode=False, min_split_elements=8, workers=3, jit=jit):
            check_program(program, dtype)
    finally:
        inplace.CHUNK_BYTES = saved


@pytest.fixture
def jit_always():
    pytest.importorskip("numba")
    with runtime_with(jit="always"):
        yield


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
@given(st.lists(statement.filter(lambda s: s[0] != "unary" or s[2] in ("negative", "sqrt",
                                                                         "square")),
                min_size=1, max_size=6),
       st.sampled_from([np.float64, np.float32]))
def test_random_programs_compiled_match_numpy(jit_always, program, dtype):
    # Only the IEEE operations compile; maximum and absolute run blocked in the same group.
    check_program(program, dtype)


def test_compiled_kernels_cover_mixed_dtypes_scalars_and_broadcasting(jit_always):
    x64 = np.linspace(-3, 3, 60).reshape(3, 4, 5)
    x32 = np.linspace(1, 2, 5, dtype=np.float32)

    def program(xp, a, b):
        c = a * 0.1 + b           # float64 with a broadcast float32 row
        d = xp.sqrt(b * b) / 3    # float32 throughout (weak Python scalar)
        e = -c - d
        e += a[0]                 # broadcast in-place add
        return c, d, e

    got = program(hp, hp.asarray(x64), hp.asarray(x32))
    expected = program(np, x64.copy(), x32.copy())
    for g, e in zip(got, expected):
        assert_same(g, e)
    compiled = [src for src, f in kernels._compiled_cache.items() if f is not None]
    assert any(" * " in src and " + " in src for src in compiled), compiled


def test_hybrid_plans_compile_the_arithmetic_between_exp_and_log(jit_always):
    """A group mixing exp/log (NumPy's own) with arithmetic runs blocked, each run of
    arithmetic as one compiled call per block: still NumPy's bits."""
    rng = np.random.default_rng(3)
    s0, k0 = rng.uniform(5, 30, (40, 30)), rng.uniform(1, 100, (40, 30))

    def program(xp, s, k):
        d1 = (xp.log(s / k) + 0.065) / 0.3
        k_ = 1.0 / (1.0 + 0.2316419 * xp.abs(d1))
        poly = k_ * (0.319 + k_ * (-0.356 + k_ * 1.78))
        upper = 1.0 - 0.3989 * xp.exp(-0.5 * d1 * d1) * poly
        return xp.where(d1 < 0, 1.0 - upper, upper) * s - k

    before = set(kernels._compiled_cache)
    got = program(hp, hp.asarray(s0), hp.asarray(k0))
    assert_same(got, program(np, s0, k0))
    segments = [src for src in set(kernels._compiled_cache) - before
                if src.startswith("def kernel(d0") and kernels._compiled_cache[src]]
    assert segments, "no arithmetic run was compiled"


def test_stencil_is_one_fused_kernel_that_writes_the_grid_in_place(tmp_path):
    records = run_traced(tmp_path, """
        import hpcarray as np
        grid = np.zeros((602, 602)); grid[0, :] = 40.0
        center, north, south = grid[1:-1, 1:-1], grid[:-2, 1:-1], grid[2:, 1:-1]
        east, west = grid[1:-1, 2:], grid[1:-1, :-2]
        for _ in range(3):
            work = 0.2 * (center + north + east + west + south)
            center[:] = work
            del work  # (as at the end of a step function)
        print(float(grid.sum()))
    """)
    ops = [r for r in records if r["type"] == "op"]
    fused = [r for r in ops if r["name"].startswith("fused(")]
    # center[:] = work joins the group, which writes the grid in place after a copy of
    # each tile's halo rows (inplace.py): `work`, dead by then, is never written.
    name = "fused(add,add,add,add,multiply,assign)"
    assert [r["name"] for r in fused] == [f"{name} halo", name] * 3
    assert all(len(r["writes"]) == 1 for r in fused[1::2])


def test_group_flushes_before_a_sync_point_and_reads_see_pending_writes():
    a = hp.arange(40.0)
    b = a * 2
    a += 1                      # the group writes a after b read it
    assert get_runtime().fusion.group is not None
    assert float(b[3]) == 6.0   # b saw a before the in-place add
    assert float(a[3]) == 4.0
    assert get_runtime().fusion.group is None


def test_dead_temporary_buffers_are_reused_but_not_while_numpy_holds_them():
    with runtime_with(test_mode=False):
        n = 1 << 18
        x = hp.ones(n) + 0
        held = np.asarray(x)        # the user holds x's memory through NumPy
        del x
        y = hp.ones(n) * 2
        np.asarray(y)
        assert held[0] == 1.0       # y did not take x's buffer
        pool = get_runtime().pool
        before = pool.reused
        del held, y
        for _ in range(3):
            z = hp.ones(n) * 3
            assert float(z[0]) == 3.0
        assert pool.reused > before


def test_fusion_off_gives_the_same_results():
    with runtime_with(fusion=False):
        assert get_runtime().fusion is None
        check_program([("binary", "t0", "add", "north", "south"), ("assign", "center", "t0")],
                      np.float64)


def test_a_stencil_loop_writes_one_result_buffer_not_a_new_one_every_iteration():
    # Fresh 8 MB results would each fault in new pages; the pool hands back the previous
    # iteration's buffer (waiting for the copy that still reads it), so memory stays at
    # grid + one `work`, below NumPy's grid + temporaries.
    with runtime_with(test_mode=False):
        grid = hp.zeros((1002, 1002))
        grid[0, :] = 40.0
        center, north, south = grid[1:-1, 1:-1], grid[:-2, 1:-1], grid[2:, 1:-1]
        east, west = grid[1:-1, 2:], grid[1:-1, :-2]
        addresses = set()
        for i in range(8):
            work = 0.2 * (center + north + east + west + south)
            center[:] = work
            if i:
                addresses.add(work._np.ctypes.data)
            del work
        assert len(addresses) == 1
        expected = np.zeros((1002, 1002))
        expected[0, :] = 40.0
        for _ in range(8):
            expected[1:-1, 1:-1] = 0.2 * (expected[1:-1, 1:-1] + expected[:-2, 1:-1]
                                          + expected[1:-1, 2:] + expected[1:-1, :-2]
                                          + expected[2:, 1:-1])
        assert_same(grid, expected)


def test_results_written_at_once_reuse_the_buffers_of_dropped_ones():
    """`A @ B`, `concatenate` and `pad` results are not fused: they take a dropped result's
    buffer when they are made (waiting for its tasks), so a loop cycles through two
    buffers instead of faulting in fresh pages every iteration."""
    with runtime_with(test_mode=False):
        a, b = hp.ones((600, 600)), hp.ones((600, 600)) * 0.5
        u = hp.ones((1000, 1000))
        seen: dict[str, set] = {"matmul": set(), "concatenate": set(), "pad": set()}
        c = e = p = None
        for i in range(8):
            c = a @ b
            e = hp.concatenate([u[:, 1:], u[:, :1]], axis=1)
            p = hp.pad(u[1:-1, 1:-1], 1, mode="edge")
            if i >= 2:
                for name, x in (("matmul", c), ("concatenate", e), ("pad", p)):
                    seen[name].add(x._np.ctypes.data)
        # Two live results of one shape (e and p) and their replacements: at most four
        # buffers over six iterations (fresh ones would be twelve).
        assert len(seen["matmul"]) <= 2 and len(seen["concatenate"] | seen["pad"]) <= 4, seen
        assert_same(c, np.ones((600, 600)) @ (np.ones((600, 600)) * 0.5))


def test_an_update_of_a_window_is_one_node_not_also_a_copy_onto_itself():
    # Python ends `a[k] -= b` with `a[k] = a[k]`: nothing to copy (a second output of the
    # same memory would also keep LLVM from vectorizing the kernel).
    a0, b0 = np.arange(100.0), np.linspace(0.0, 1.0, 40)
    a, b = hp.asarray(a0), hp.asarray(b0)
    a[10:50] -= b
    assert [n.func.name for n in get_runtime().fusion.group.nodes] == ["subtract"]
    a0[10:50] -= b0
    assert_same(a, a0)
    a[10:50] = a[10:50]
    assert_same(a, a0)


def test_an_in_place_update_reads_its_array_through_the_output(jit_always):
    """`x += y`: the kernel reads x through the pointer it writes (LLVM cannot vectorize
    a loop that reads one pointer and writes another that may overlap it)."""
    x0, y0 = np.arange(64.0).reshape(8, 8), np.ones((8, 8))
    x, y = hp.asarray(x0), hp.asarray(y0)
    x += y
    assert_same(x, x0 + y0)
    assert any("= np.float64((np.float64(r_o0[i1]) + np.float64(r_a" in src
               for src in kernels._compiled_cache), "no kernel read x through its output"
    z = np.zeros((4, 5))
    assert kernels._same_arrays([z], [z, np.ones((4, 5)), z[:, ::-1], z[1:], z.view()]) == \
        (0, -1, -1, -1, 0)
