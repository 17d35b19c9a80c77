"""Multi-rank runs with real MPI (the mpich wheel's mpiexec and mpi4py): same results at
every rank count, halos of O(N) bytes, failures that end the job, lock-step checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STENCIL = ROOT / "examples" / "stencil.py"

pytestmark = pytest.mark.mpi


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDI_", "MPI_"))}
    env.pop("HPCARRAY_TEST", None)
    env.update({"HPCARRAY_WORKERS": "1", "MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}, **extra)
    return env


def mpirun(mpiexec, n, args, timeout=120, **env):
    return subprocess.run([mpiexec, "-n", str(n), sys.executable, *args], env=clean_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def run_code(mpiexec, n, code, **env):
    return mpirun(mpiexec, n, ["-c", textwrap.dedent(code)], **env)


def checksum(out: str) -> str:
    return re.search(r"checksum: (\S+)", out).group(1)


@pytest.mark.parametrize("test_mode", ["0", "1"])
def test_stencil_same_checksum_at_1_to_4_ranks(mpiexec, test_mode):
    """The checksum is bit-identical at every rank count: elementwise ops are exact and
    float sums are taken per block of the shape, not per tile (blocked_reduction.py)."""
    args = [str(STENCIL), "--package", "hpcarray", "-n", "120", "--iters", "15"]
    sums = []
    for n in (1, 2, 3, 4):
        r = mpirun(mpiexec, n, args, HPCARRAY_TEST=test_mode, HPCARRAY_MIN_SPLIT="64")
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("checksum:") == 1, "print(x) must print once per job"
        sums.append(float(checksum(r.stdout)))
    assert len(set(sums)) == 1, sums


def test_halo_exchange_moves_only_boundaries(mpiexec):
    """... and the update runs in place across ranks too (fusion.py retiles `work` and
    its temporaries like the interior they are written back to)."""
    code = """
        import sys, hpcarray as np
        from hpcarray.runtime import get_runtime
        from hpcarray.runtime.fusion import fuser as fusion
        in_place = []
        launch = fusion._launch_in_place
        fusion._launch_in_place = lambda *a: in_place.append(1) or launch(*a)
        n = int(sys.argv[1])
        g = np.zeros((n + 2, n + 2)); g[0, :] = 40.0
        c, no, so, we, ea = g[1:-1, 1:-1], g[:-2, 1:-1], g[2:, 1:-1], g[1:-1, :-2], g[1:-1, 2:]
        c[:] = 0.2 * (c + no + so + we + ea)      # warm-up: first-touch traffic
        float(g[0, 0])
        rt = get_runtime(); before = rt.sent[1]
        for _ in range(10):
            c[:] = 0.2 * (c + no + so + we + ea)
        float(g[0, 0])
        sys.stderr.write(f"BYTES {rt.rank} {(rt.sent[1] - before) / 10}\\n")
        assert len(in_place) == 11, len(in_place)
    """
    per_iter = {}
    for n in (400, 800):
        r = mpirun(mpiexec, 2, ["-c", textwrap.dedent(code), str(n)], HPCARRAY_MIN_SPLIT="1000")
        assert r.returncode == 0, r.stderr
        vals = [float(v) for v in re.findall(r"BYTES \d+ (\S+)", r.stderr)]
        assert len(vals) == 2
        per_iter[n] = max(vals)
    # A rank sends a few boundary rows per iteration: O(N) bytes, far below its N^2/2 tile.
    assert 0 < per_iter[400] <= 16 * 8 * 402
    assert per_iter[800] / per_iter[400] < 2.5, per_iter  # linear, not quadratic


def test_two_grids_update_in_place_across_ranks(mpiexec):
    """Gray-Scott's step writes both grids over what it reads of them: across ranks, one
    group writes both in place (its fresh results tiled like the interiors), with
    NumPy's values."""
    code = f"""
        import sys, numpy, hpcarray as hp
        from hpcarray.runtime.fusion import inplace
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from programs import gray_scott_step
        frames = []
        write = inplace.write_kernel
        inplace.write_kernel = lambda plan, f, *a: frames.append(len(f)) or write(plan, f, *a)
        rng = numpy.random.default_rng(3)
        U0, V0 = rng.random((230, 170)), rng.random((230, 170))
        U, V = hp.asarray(U0) * 1.0, hp.asarray(V0) * 1.0
        for _ in range(6):
            gray_scott_step(hp, U, V)
            gray_scott_step(numpy, U0, V0)
        assert numpy.array_equal(numpy.asarray(U), U0)
        assert numpy.array_equal(numpy.asarray(V), V0)
        assert frames and set(frames) == {{2}}, frames
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1")
    assert r.returncode == 0, r.stderr


def test_cumsum_moves_only_the_slice_before_each_tile(mpiexec):
    """A scan runs tile by tile along its axis: a rank receives the last row of the tile
    before its own (n values), never the whole array; across the axis nothing moves."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt, n = get_runtime(), int(sys.argv[1])
        a0 = numpy.random.default_rng(1).random((n, n))
        a = np.asarray(a0)
        float(a[0, 0])
        before = rt.sent[1]
        c, d = np.cumsum(a, axis=0), np.cumsum(a, axis=1)
        float(c[-1, -1] + d[-1, -1])
        sys.stderr.write(f"BYTES {rt.rank} {rt.sent[1] - before}\\n")
        assert numpy.array_equal(numpy.asarray(c), numpy.cumsum(a0, axis=0))
        assert numpy.array_equal(numpy.asarray(d), numpy.cumsum(a0, axis=1))
    """
    for n in (300, 600):
        r = mpirun(mpiexec, 3, ["-c", textwrap.dedent(code), str(n)],
                   HPCARRAY_MIN_SPLIT="1000")
        assert r.returncode == 0, r.stderr
        sent = [float(v) for v in re.findall(r"BYTES \d+ (\S+)", r.stderr)]
        assert len(sent) == 3
        assert 0 < max(sent) <= 8 * n, (n, sent)  # one row per tile edge, not n*n/3


def test_sort_moves_a_share_not_the_array(mpiexec):
    """1-D sort and argsort are sample sorts: each rank sends about two shares of N/ranks
    values (argsort: values and positions), where a gather would send its share to every
    rank and sort all N values on each. Rows sorted along an unsplit axis move nothing."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt, n = get_runtime(), int(sys.argv[1])
        x0 = numpy.random.default_rng(2).random(n)
        m0 = numpy.random.default_rng(3).random((400, 300))  # tiled by rows
        x, m = np.asarray(x0), np.asarray(m0)
        float(x[0] + m[0, 0])
        before = rt.sent[1]
        s = np.sort(x)
        float(s[0])
        one_d = rt.sent[1] - before
        r = np.sort(m, axis=1)
        float(r[0, 0])
        rows = rt.sent[1] - before - one_d
        i = np.argsort(x)
        float(i[0])
        indices = rt.sent[1] - before - one_d - rows
        sys.stderr.write(f"BYTES {rt.rank} {one_d} {rows} {indices}\\n")
        assert numpy.array_equal(numpy.asarray(s), numpy.sort(x0))
        assert numpy.array_equal(numpy.asarray(r), numpy.sort(m0, axis=1))
        assert numpy.array_equal(numpy.asarray(i), numpy.argsort(x0))
        # Equal values: stable argsorts keep positions; others come out in NumPy's order.
        y0 = numpy.random.default_rng(4).integers(0, 9, n)
        y = np.asarray(y0) + 0
        for kw in ({"kind": "stable"}, {"stable": True}, {}):
            assert numpy.array_equal(numpy.asarray(np.argsort(y, **kw)),
                                     numpy.argsort(y0, **kw)), kw
    """
    n = 300_000
    r = mpirun(mpiexec, 3, ["-c", textwrap.dedent(code), str(n)], HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode == 0, r.stderr
    sent = [tuple(map(float, v))
            for v in re.findall(r"BYTES \d+ (\S+) (\S+) (\S+)", r.stderr)]
    assert len(sent) == 3
    share = 8 * n / 3
    assert all(0 < one_d <= 2 * share * 1.2 for one_d, _, _ in sent), sent
    assert all(rows <= 16 for _, rows, _ in sent), sent  # the scalar read: 8 bytes x 2
    # argsort sends values and positions: about twice what sort sends, no gather.
    assert all(0 < indices <= 4 * share * 1.2 for _, _, indices in sent), sent


RESHAPES = """
    import numpy, hpcarray as np
    from hpcarray.runtime import get_runtime
    rt = get_runtime()
    for n in (1000, 999, 64, 37):
        a0 = numpy.arange(n * n).reshape(n, n)
        a = np.arange(n * n).reshape(n, n)
        assert a._v.store.matched, "a reshape of a whole array is tiled like its base"
        before = rt.sent[1]
        c = np.multiply(a, a * 2 + 1)
        float(c[0, 0])
        assert rt.sent[1] - before <= 8 * (rt.nranks - 1), \
            "elementwise work on a matched reshape moves nothing (but the scalar read)"
        assert numpy.array_equal(numpy.asarray(c), a0 * (a0 * 2 + 1))
        # Writes through the reshape show in its base, and the other way round.
        base, base0 = np.arange(n * n) * 1.0, numpy.arange(n * n) * 1.0
        v, v0 = base.reshape(n, n), base0.reshape(n, n)
        for g in (v, v0):
            g[1:-1, 1:-1] = 0.25 * (g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:])
        base[::7] += 1.0
        base0[::7] += 1.0
        assert numpy.array_equal(numpy.asarray(base), base0)
        assert numpy.array_equal(numpy.asarray(v), v0)
        assert numpy.array_equal(numpy.asarray(np.cumsum(v.ravel())), numpy.cumsum(v0.ravel()))
        w, w0 = np.zeros((n, n)), numpy.zeros((n, n))
        w.reshape(-1)[::3] = 5.0
        w0.reshape(-1)[::3] = 5.0
        assert numpy.array_equal(numpy.asarray(w.sum(axis=0)), w0.sum(axis=0))
        # A run of rows reshaped: rows of the whole array's reshape, tiled like it.
        lo, hi = n // 5, n - 3
        for shape in ((-1,), (-1, n // 2) if n % 2 == 0 else (-1, n)):
            part, part0 = w[lo:hi].reshape(shape), w0[lo:hi].reshape(shape)
            assert not part._v.store.replicates, "not computed replicated"
            part[1::2] = 3.0
            part0[1::2] = 3.0
            assert numpy.array_equal(numpy.asarray(w), w0)
        # A window of columns split in pairs: a window of the whole array's reshape.
        if n % 2 == 0:
            part, part0 = w[lo:hi, 2:6].reshape(hi - lo, 2, 2), w0[lo:hi, 2:6].reshape(
                hi - lo, 2, 2)
            assert not part._v.store.replicates, "not computed replicated"
            before = rt.sent[1]
            part[:, 1] += 7.0
            part0[:, 1] += 7.0
            float(w[lo, 4])
            assert rt.sent[1] - before <= 8 * (rt.nranks - 1), "nothing moves"
            assert numpy.array_equal(numpy.asarray(w), w0)
"""


@pytest.mark.parametrize("ranks,workers", [(2, 1), (3, 1), (2, 2)])
def test_reshape_of_a_whole_array_stays_distributed(mpiexec, ranks, workers):
    """`arange(n * n).reshape(n, n)` keeps its base's tiles (moving the base's tile edges
    onto row edges where needed), so work on it runs tile by tile, not replicated."""
    r = run_code(mpiexec, ranks, RESHAPES, HPCARRAY_MIN_SPLIT="1000",
                 HPCARRAY_WORKERS=str(workers))
    assert r.returncode == 0, r.stderr


def test_data_movement_operations_move_only_what_they_need(mpiexec):
    """diagonal, repeat, pad (modes that pick elements, wider than the axis), a.flat,
    order-dependent reductions and ufunc.at run without gathering their input: a tile
    reads the boxes its picks span (pad, repeat) or just the elements it takes (diagonal,
    flat); a reduction in order passes one slice from tile to tile."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt, rng = get_runtime(), numpy.random.default_rng(5)
        a0 = rng.random((3000, 200))
        a = np.asarray(a0) * 1.0  # computed: each rank holds only its own rows
        float(a[0, 0])
        def same(got, want):
            assert numpy.array_equal(numpy.asarray(got), want), (got.shape, want.shape)
        cost = {}
        def measure(name, fn):
            before = rt.sent[1]
            res = fn()
            res.sum()  # waits for the result
            cost[name] = rt.sent[1] - before
            return res
        reps = rng.integers(0, 3, 3000)
        widths = ((400, 410), (3, 401))
        for mode in ("wrap", "reflect", "symmetric", "edge"):
            same(measure(mode, lambda: np.pad(a, widths, mode)), numpy.pad(a0, widths, mode))
        same(measure("repeat", lambda: np.repeat(a, reps, axis=0)),
             numpy.repeat(a0, reps, axis=0))
        same(measure("diagonal", lambda: np.diagonal(a, -5)), numpy.diagonal(a0, -5))
        same(measure("flat", lambda: a.flat[7:500_000:11]), a0.flat[7:500_000:11])
        for axis in (0, 1):  # in NumPy's order, tile after tile along the axis
            same(measure(f"subtract.reduce{axis}", lambda: np.subtract.reduce(a, axis)),
                 numpy.subtract.reduce(a0, axis))
        a.flat[100:400_000:3] = [1.0, 2.0]
        a0.flat[100:400_000:3] = [1.0, 2.0]
        same(a, a0)
        i, j, v = rng.integers(0, 3000, 5000), rng.integers(0, 200, 5000), rng.random(5000)
        before = rt.sent[1]
        np.add.at(a, (i, j), v)  # each rank adds the values of its own elements
        cost["add.at"] = rt.sent[1] - before
        numpy.add.at(a0, (i, j), v)
        same(a, a0)
        assert cost["add.at"] == 0, cost
        sys.stderr.write(f"COST {rt.rank} {cost}\\n")
        whole = a0.nbytes  # what a gather brings every rank
        assert cost["wrap"] <= 0.3 * whole, cost  # the 400 wrapped rows and halos
        assert cost["reflect"] <= 0.2 * whole and cost["edge"] <= 0.05 * whole, cost
        # Output and source rows drift apart by the repeats: tens of rows at tile edges.
        assert cost["repeat"] <= 0.05 * whole, cost
        assert cost["diagonal"] <= 16 * 200, cost  # elements and their positions
        assert cost["flat"] <= 0.05 * whole, cost
        assert cost["subtract.reduce0"] <= 0.01 * whole, cost
        assert cost["subtract.reduce1"] <= 0.01 * whole, cost
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1")
    assert r.returncode == 0, r.stderr


def test_advanced_indexing_moves_only_the_indexed_elements(mpiexec):
    """x[idx], take and x[idx] = values send each rank only the elements it needs (with
    repeated indices, the last assignment wins as in NumPy)."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt, rng = get_runtime(), numpy.random.default_rng(4)
        n = 300_000
        v0, a0 = rng.random(n), rng.random((600, 500))
        v, a, orig = np.asarray(v0), np.asarray(a0), v0.copy()
        idx = rng.integers(0, n, 1000)
        vals = np.asarray(rng.random(1000))
        float(v[0] + a[0, 0] + vals[0])
        before = rt.sent[1]
        got = v[idx]
        rows, rows0 = np.take(a, [5, 599, 5], axis=0), a0[[5, 599, 5]]
        v[idx] = vals
        v0[idx] = numpy.asarray(vals)
        a[a0 > 0.99] = -1.0
        a0[a0 > 0.99] = -1.0
        float(got[0] + rows[0, 0] + v[0] + a[0, 0])
        sys.stderr.write(f"BYTES {rt.rank} {rt.sent[1] - before}\\n")
        assert numpy.array_equal(numpy.asarray(got), orig[idx])
        assert numpy.array_equal(numpy.asarray(v), v0)
        assert numpy.array_equal(numpy.asarray(a), a0)
        assert numpy.array_equal(numpy.asarray(rows), rows0)
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode == 0, r.stderr
    sent = [float(v) for v in re.findall(r"BYTES \d+ (\S+)", r.stderr)]
    assert len(sent) == 3
    # About 2 x 1000 values and 3 rows of 500 move; a gather would move 2.4 MB per rank.
    assert 0 < max(sent) <= 8 * (2 * 1000 + 3 * 500), sent


def test_matrix_vector_product_splits_rows_between_ranks(mpiexec):
    """A matrix spread by rows times a small vector: each rank computes its rows of the
    result and sends them to the others (n values), rather than every rank fetching the
    whole matrix; all ranks end with the same bits."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt, rng = get_runtime(), numpy.random.default_rng(6)
        A0, x0 = rng.random((3000, 500)), rng.random(500)
        A, x = np.asarray(A0), np.asarray(x0)
        float(A[0, 0] + x[0])
        before = rt.sent[1]
        y = A @ x
        float(y[0])
        sys.stderr.write(f"BYTES {rt.rank} {rt.sent[1] - before}\\n")
        assert numpy.allclose(numpy.asarray(y), A0 @ x0, rtol=1e-13)
        assert len(set(rt.comm.allgather_obj(numpy.asarray(y).tobytes()))) == 1
        # The transpose (rows split along k): partial products travel, not the matrix.
        r0 = rng.random(3000)
        r = np.asarray(r0)
        for _ in range(5):
            g = A.T @ r
            assert numpy.allclose(numpy.asarray(g), A0.T @ r0, rtol=1e-13)
            assert len(set(rt.comm.allgather_obj(numpy.asarray(g).tobytes()))) == 1
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="100000")
    assert r.returncode == 0, r.stderr
    sent = [float(v) for v in re.findall(r"BYTES \d+ (\S+)", r.stderr)]
    assert len(sent) == 3
    assert all(0 < b <= 2 * 8 * 1100 for b in sent), sent  # its ~1000 rows, to 2 ranks


def test_boolean_mask_selection_gathers_nothing(mpiexec):
    """x[x > t] over row slabs: each rank compacts its own rows and sends at most its
    selected elements to the result's owners; neither x nor the mask is gathered. Also
    nonzero, flatnonzero, argwhere and extract."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        x0 = numpy.random.default_rng(8).random((3000, 400))
        x = np.asarray(x0)
        float(x[0, 0])
        before = rt.sent[1]
        picked = x[x > 0.5]
        float(picked[0])
        sys.stderr.write(f"BYTES {rt.rank} {rt.sent[1] - before}\\n")
        assert numpy.array_equal(numpy.asarray(picked), x0[x0 > 0.5])
        # The nonzero family works the same way, rank by rank.
        m0 = x0 > 0.9
        m = np.asarray(m0)
        for got, want in zip(np.nonzero(m), numpy.nonzero(m0)):
            assert numpy.array_equal(numpy.asarray(got), want)
        assert numpy.array_equal(numpy.asarray(np.flatnonzero(m)), numpy.flatnonzero(m0))
        assert numpy.array_equal(numpy.asarray(np.argwhere(m)), numpy.argwhere(m0))
        assert numpy.array_equal(numpy.asarray(np.extract(m, x)), numpy.extract(m0, x0))
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode == 0, r.stderr
    sent = [float(v) for v in re.findall(r"BYTES \d+ (\S+)", r.stderr)]
    assert len(sent) == 3
    share = 8 * 3000 * 400 / 3
    assert all(b <= 0.6 * share for b in sent), sent  # about half of its share, at most


def test_arrays_cut_into_columns_are_laid_out_by_rows_not_gathered(mpiexec):
    """A wide array is cut into column blocks. x[mask], nonzero and ravel need each rank
    to own whole rows: the array is laid out by rows once (each element moves at most
    once) instead of being gathered, and a ravel stays a view tile for tile."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        x0 = numpy.random.default_rng(9).random((200, 3000))
        x = np.asarray(x0) * 1.0
        assert x._v.store.tiling.counts == (1, 3)
        float(x[0, 0])
        before = rt.sent[1]
        picked = x[x > 0.5]
        nz = np.nonzero(x > 0.9)
        float(picked[0] + nz[0][0])
        sys.stderr.write(f"BYTES {rt.rank} {rt.sent[1] - before}\\n")
        assert numpy.array_equal(numpy.asarray(picked), x0[x0 > 0.5])
        for got, want in zip(nz, numpy.nonzero(x0 > 0.9)):
            assert numpy.array_equal(numpy.asarray(got), want)
        flat = x.ravel()
        assert flat._v.store.matched, "the ravel is a view, tiled like its base"
        flat[::7] = -1.0
        x0.ravel()[::7] = -1.0
        assert numpy.array_equal(numpy.asarray(x), x0)
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1")
    assert r.returncode == 0, r.stderr
    sent = [float(v) for v in re.findall(r"BYTES \d+ (\S+)", r.stderr)]
    assert len(sent) == 3
    share = 8 * 200 * 3000 / 3
    # Laying x and the masks out by rows moves under 2/3 of each (9 bytes per element),
    # compaction about half a share: far below a gather (two shares to every rank).
    assert all(b <= 1.6 * share for b in sent), sent


def test_row_masks_and_masked_assignment_move_no_mask(mpiexec):
    """x[rows] with a boolean mask of x's first axis compacts each rank's own rows (the
    mask is laid out like x's rows, not gathered); x[mask] = scalar is an elementwise copy
    where the mask is true (nothing moves), x[mask] = values takes each rank's run of the
    values; x[i] with an index array reads only the index tiles a rank owns."""
    code = """
        import sys, numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        rng = numpy.random.default_rng(4)
        x0, labels0 = rng.random((30000, 8)), rng.integers(0, 4, 30000)
        x, labels = np.asarray(x0) * 1.0, np.asarray(labels0) + 0
        float(x[0, 0] + labels[0])
        cost = {}
        for k in range(4):  # k-means' regrouping: the points of each cluster
            before = rt.sent[1]
            got = x[labels == k]
            float(got[0, 0])
            cost[k] = rt.sent[1] - before
            assert numpy.array_equal(numpy.asarray(got), x0[labels0 == k])
        before = rt.sent[1]
        x[x > 0.9] = 0.0
        x[labels == 2] = -1.0
        float(x[5, 5])
        cost["set"] = rt.sent[1] - before
        x0[x0 > 0.9] = 0.0
        x0[labels0 == 2] = -1.0
        assert numpy.array_equal(numpy.asarray(x), x0)
        before = rt.sent[1]
        x[labels == 1] = x[labels == 1] * 0.5  # compaction there, expansion back
        float(x[5, 5])
        cost["values"] = rt.sent[1] - before
        x0[labels0 == 1] = x0[labels0 == 1] * 0.5
        assert numpy.array_equal(numpy.asarray(x), x0)
        perm0 = rng.permutation(30000)
        perm = np.asarray(perm0) + 0
        float(perm[0])
        before = rt.sent[1]
        y = labels[perm]
        float(y[0])
        cost["perm"] = rt.sent[1] - before
        assert numpy.array_equal(numpy.asarray(y), labels0[perm0])
        before = rt.sent[1]
        xs = x[perm]  # a 2-D shuffle of samples: the index is read where it lives
        float(xs[0, 0])
        cost["rows"] = rt.sent[1] - before
        x0 = numpy.asarray(x)
        assert numpy.array_equal(numpy.asarray(xs), x0[perm0])
        before = rt.sent[1]
        order = np.argsort(x, axis=1)
        s = np.take_along_axis(x, order, axis=1)  # whole rows on each rank: nothing moves
        float(s[0, 0])
        cost["along"] = rt.sent[1] - before
        assert numpy.array_equal(numpy.asarray(s), numpy.sort(x0, axis=1))
        sys.stderr.write(f"COST {rt.rank} {cost}\\n")
        share = x0.nbytes / rt.nranks
        assert all(cost[k] <= 0.5 * share for k in range(4)), cost  # the picked rows
        assert cost["set"] <= 16, cost  # the scalar read
        assert cost["values"] <= 0.5 * share, cost  # a quarter of the rows, there and back
        # asks and answers for the 2/3 of a rank's elements held elsewhere (8 + 8 bytes)
        assert cost["perm"] <= 16 * 30000 / rt.nranks * 1.1, cost
        # the same for the 2/3 of x[perm]'s elements held elsewhere; gathering perm would
        # add 8 bytes per row held elsewhere, more than the 15 % margin
        assert cost["rows"] <= 16 * x0.size / rt.nranks * 2 / 3 * 1.15, cost
        assert cost["along"] <= 16, cost
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1")
    assert r.returncode == 0, r.stderr


def test_a_loop_at_several_ranks_reuses_its_result_buffers(mpiexec):
    """At several ranks too, a new result takes the buffer of the one it replaces once
    that one's tasks are done (before: fresh pages every iteration, zeroed by the kernel:
    29 % of logistic regression's CPU time at 2 ranks)."""
    code = """
        import numpy, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        X = np.random.rand(400000, 8)
        w, y = np.ones(8) * 0.1, np.random.rand(400000)
        start = rt.pool.reused
        for k in range(20):
            p = 1.0 / (1.0 + np.exp(-(X @ w)))
            w = w - 1e-6 * (X.T @ (p - y))
            rt.flush()
        float(np.sum(w))
        reused = rt.pool.reused - start
        assert reused >= 30, f"rank {rt.rank}: {reused} buffers reused in 20 iterations"
    """
    r = run_code(mpiexec, 2, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1")
    assert r.returncode == 0, r.stderr


def test_failing_rank_ends_the_job_quickly(mpiexec):
    code = """
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        a = np.ones((200, 200))
        for i in range(1000):
            a = a * 1.0
            if i == 5 and rt.rank == 1:
                raise RuntimeError("rank one gives up")
            float(a.sum())
    """
    start = time.monotonic()
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000")
    elapsed = time.monotonic() - start
    assert r.returncode != 0
    assert elapsed < 10 + 5, f"job took {elapsed:.1f}s to end"  # 10 s bound + start-up
    assert "[rank 1]" in r.stderr and "rank one gives up" in r.stderr
    assert r.stderr.count("rank one gives up") == 1
    # (a rank MPI_Abort is ending may still be exiting as mpiexec returns: allow it 5 s)
    for _ in range(50):
        left = subprocess.run(["pgrep", "-f", "rank one gives up"], capture_output=True,
                              text=True)
        if not left.stdout.strip():
            break
        time.sleep(0.1)
    assert left.stdout.strip() == "", "a rank was left running"


def test_divergent_ranks_are_named(mpiexec):
    code = """
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        a = np.ones((100, 100))
        b = a + 1
        if rt.rank == 0:
            b = b * 2          # only rank 0 issues this multiply
        print(float(b.sum()))
    """
    r = run_code(mpiexec, 2, code, HPCARRAY_CHECK_SPMD="1", HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode != 0
    assert "DivergenceError" in r.stderr and "multiply" in r.stderr


def test_ranks_in_different_collectives_are_named(mpiexec):
    """Without the SPMD check, ranks that took different paths and meet in different
    collectives end with an error naming each rank's line, not with one rank reading
    another's payload ("not enough values to unpack")."""
    code = """
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        a = np.arange(4000.0).reshape(200, 20)
        if get_runtime().rank == 0:
            print(a)
        else:
            print(np.sort(a, axis=None)[:3])
    """
    r = run_code(mpiexec, 2, code, HPCARRAY_TEST="1")
    assert r.returncode != 0
    assert "DivergenceError: ranks reached different collective steps" in r.stderr
    assert re.search(r"rank 0: at \S+:6, collective #1", r.stderr), r.stderr[-2000:]
    assert re.search(r"rank 1: at \S+:8, collective #1", r.stderr), r.stderr[-2000:]


def test_random_and_reductions_identical_at_any_rank_count(mpiexec):
    code = """
        import hpcarray as np
        np.random.seed(7)
        x = np.random.rand(300, 200)
        y = np.random.randn(300, 200)
        print(repr(float((x * y).sum())), repr(float(x.max())), int(y.argmin()))
    """
    outs = {run_code(mpiexec, n, code, HPCARRAY_TEST="1").stdout for n in (1, 2, 3)}
    assert len(outs) == 1, outs


def test_two_rank_profile_has_lanes_copies_and_messages(mpiexec, tmp_path):
    """A real 2-rank stencil run with --profile: tasks and copies on both ranks, and the
    event graph joins each send to its receive on the other rank."""
    from hpcarray.profiling.event_graph import match_messages
    from hpcarray.profiling.trace_reader import load_profile

    prof_dir = tmp_path / "prof"
    args = [str(STENCIL), "--package", "hpcarray", "-n", "60", "--iters", "3"]
    r = mpirun(mpiexec, 2, args, HPCARRAY_TEST="1", HPCARRAY_PROFILE=str(prof_dir),
               HPCARRAY_EVENT="1")
    assert r.returncode == 0, r.stderr
    prof = load_profile(prof_dir)
    assert prof.ranks == [0, 1]
    tasks, copies = prof.tasks, prof.copies
    assert {t.rank for t in tasks} == {0, 1}
    assert {c.rank for c in copies} == {0, 1}
    pairs = match_messages(copies)
    assert pairs and {(s.rank, d.rank) for s, d in pairs} == {(0, 1), (1, 0)}
    assert (prof_dir / "timeline.html").exists()
    dot = next(prof_dir.glob("event_graph_*.dot")).read_text()
    assert "rank 0" in dot and "rank 1" in dot


def test_profile_shows_collective_exchanges(mpiexec, tmp_path):
    """Sample sort, index exchange and mask compaction run on the main thread, not as
    tasks: the trace shows each as an event in the rank's communication lane, with the
    bytes it sent, and `hpcarray profile` renders them."""
    from hpcarray.profiling.trace_reader import load_profile

    code = """
        import numpy, hpcarray as np
        x = np.asarray(numpy.random.default_rng(0).random(200000))
        print(float(np.sort(x)[0] + x[numpy.array([5, 199999])][0] + x[x > 0.5][0]))
    """
    prof_dir = tmp_path / "prof"
    r = run_code(mpiexec, 2, code, HPCARRAY_PROFILE=str(prof_dir), HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode == 0, r.stderr
    prof = load_profile(prof_dir)
    events = [c for c in prof.copies if c.side == "all"]
    assert {c.kind for c in events} == {"sample sort", "index exchange", "compaction"}
    assert {c.rank for c in events} == {0, 1}
    assert sum(c.bytes for c in events if c.kind == "sample sort") > 0
    out = subprocess.run([sys.executable, "-m", "hpcarray.cli", "profile", str(prof_dir),
                          "--no-pdf"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "sample sort" in out.stdout and "with all ranks" in (
        prof_dir / "timeline.html").read_text()


def test_results_alive_on_some_ranks_only_do_not_desynchronize_messages(mpiexec):
    # Which fused results are alive decides what a rank computes. Garbage cycles die when
    # each rank's collector runs, so that can differ between ranks; the halo messages
    # must not. Here rank 1 keeps a temporary that the other ranks drop.
    code = """
        import numpy
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rank = get_runtime().rank
        a = np.arange(3000.0)
        kept = []
        for i in range(5):
            t = a[2:] + a[:-2]          # reads halos of a
            if rank == 1:
                kept.append(t)
            del t
            u = a[1:-1] * 2.0
            a[1:-1] = u
        expected = numpy.arange(3000.0)
        for i in range(5):
            expected[1:-1] = expected[1:-1] * 2.0
        assert numpy.array_equal(numpy.asarray(a), expected)
        print("ok", float(a.sum()))
    """
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="100")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


def test_fused_reductions_give_the_same_bits_at_3_ranks_as_unfused_at_1(mpiexec):
    """np.sum(a * b) and its kin are reduced by the tasks computing the product
    (fusion.Sink), at several ranks too: the partials cross ranks as unfused ones do, and
    the bits are those of the unfused reduction at one rank."""
    code = """
        import hashlib, pickle, sys, numpy
        import hpcarray as np
        import hpcarray.runtime.fusion.fuser as fusion
        launched = []
        launch = fusion._launch_reducing
        fusion._launch_reducing = lambda rt, g: launched.append(1) or launch(rt, g)
        rng = numpy.random.default_rng(0)
        a, b = np.asarray(rng.random((3000, 500))), np.asarray(rng.random((3000, 500)))
        held = a - b
        res = [float(np.sum(a * b)), numpy.asarray(np.sum(a * b, axis=0)),
               numpy.asarray(np.sum(a * b, axis=1)), float(np.mean((a - b) ** 2)),
               float((a * 2.0).sum()), float(np.prod(a * 0.01 + 0.995)), float(held.sum()),
               numpy.asarray(held)]
        print("digest", hashlib.sha1(pickle.dumps(res)).hexdigest(), len(launched))
    """
    digests = []
    for n, fused in ((3, "1"), (1, "0")):
        r = run_code(mpiexec, n, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1",
                     HPCARRAY_FUSION=fused)
        assert r.returncode == 0, r.stderr
        _, digest, launched = r.stdout.split()
        assert int(launched) == (6 if fused == "1" else 0), r.stdout  # held.sum(): ran
        digests.append(digest)
    assert digests[0] == digests[1]


def test_window_updates_chain_at_3_ranks_with_the_bits_of_1(mpiexec):
    """CG's operator (a fresh result, then four window updates) runs as one chained
    operation at several ranks too, each task fetching the halos its windows reach."""
    code = """
        import hashlib, numpy
        import hpcarray as np
        import hpcarray.runtime.fusion.chain as chain
        chained = []
        launch = chain.launch
        chain.launch = lambda rt, gs, b: chained.append(launch(rt, gs, b)) or chained[-1]
        rng = numpy.random.default_rng(0)
        d, u = np.asarray(4.0 + rng.random((600, 600))), np.asarray(rng.random((600, 600)))
        digest = hashlib.sha1()
        for _ in range(3):
            Au = d * u
            Au[1:, :] -= u[:-1, :]
            Au[:-1, :] -= u[1:, :]
            Au[:, 1:] -= u[:, :-1]
            Au[:, :-1] -= u[:, 1:]
            u = Au * 0.25
            digest.update(numpy.asarray(Au).tobytes())
        print("digest", digest.hexdigest(), sum(chained))
    """
    outs = []
    for n in (1, 3):
        r = run_code(mpiexec, n, code, HPCARRAY_MIN_SPLIT="1000")
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.split())
    assert outs[0][1] == outs[1][1], outs
    assert outs[0][2] == outs[1][2] == "3", outs


def test_random_window_update_programs_at_3_ranks(mpiexec):
    """runtime/test_chain.py's random programs (tiny tiles), run by 3 ranks."""
    cmd = [mpiexec, "-n", "3", sys.executable, "-m", "pytest", "-q", "-x", "-p",
           "no:cacheprovider", "tests/runtime/test_chain.py", "-k", "match_numpy"]
    r = subprocess.run(cmd, cwd=ROOT, env=clean_env(HPCARRAY_TEST="1", PYTHONHASHSEED="0"),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
