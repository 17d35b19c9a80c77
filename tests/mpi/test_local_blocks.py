"""Each rank holds only its share of a distributed array (store.py's local blocks): the
global shape is never allocated, memory per rank follows its share plus the ghost rows its
tasks read, and an array whose share does not fit is named in the MemoryError."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.mpi.test_mpi import run_code

pytestmark = pytest.mark.mpi

VMSIZE = """
def vmsize():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize"):
            return int(line.split()[1]) * 1024
"""


def test_an_array_larger_than_one_rank_may_hold_runs_at_two_ranks(mpiexec):
    """The issue's program: 27.7 GiB in all, each rank limited to 16 GiB of address space
    (so no rank can reserve the global shape, as every rank did before)."""
    r = run_code(mpiexec, 2, """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (16 << 30, 16 << 30))
        import hpcarray as np
        a = np.zeros((61000, 61000))      # 27.7 GiB in all, 13.9 GiB per rank
        a[0, :10] = 1.0
        print(float(a.sum()))
    """, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "10.0"


@pytest.mark.parametrize("ranks", [2, 3])
def test_creating_an_array_costs_each_rank_its_share(mpiexec, ranks):
    """VmSize grows by at most G/R + 5 % when an array of G bytes is made."""
    r = run_code(mpiexec, ranks, VMSIZE + textwrap.dedent("""
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        warm = np.ones((4000, 1000)); float(warm.sum()); del warm
        before = vmsize()
        a = np.ones((6000, 10000))   # 480 MB
        after = vmsize()
        share = a.nbytes / rt.nranks
        assert after - before <= share * 1.05, (after - before, share)
        assert a._v.store.buffer.nbytes <= share * 1.05
        print(float(a.sum()))
    """))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "60000000.0"


# The stencil of examples/stencil.py, for hpcarray and for NumPy's reference.
STENCIL_FN = """
def stencil(np, n, iters):
    grid = np.zeros((n + 2, n + 2))
    grid[:, 0] = -273.15
    grid[:, -1] = -273.15
    grid[-1, :] = -273.15
    grid[0, :] = 40.0
    center, north = grid[1:-1, 1:-1], grid[0:-2, 1:-1]
    east, west, south = grid[1:-1, 2:], grid[1:-1, 0:-2], grid[2:, 1:-1]

    def step():  # as examples/stencil.py: `work` is gone when the group runs
        work = 0.2 * (center + north + east + west + south)
        center[:] = work

    for _ in range(iters):
        step()
        # (each step's `work` is made as a new array, untouched: see below)
        getattr(np, "sync", lambda: None)()
    return grid
"""

STENCIL = VMSIZE + STENCIL_FN + textwrap.dedent("""
    import hpcarray as np
    from hpcarray.runtime import get_runtime
    rt = get_runtime()

    stencil(np, 1000, 2)  # distributed: threads started, kernels compiled (the baseline)
    before = vmsize()
    n = N
    grid = stencil(np, n, 3)
    checksum = float(grid.sum())
    grown = vmsize() - before
    store = grid._v.store
    tiling = store.tiling
    mine = [t for t, o in zip(tiling.tiles, tiling.owners) if o == rt.rank]
    own_rows = max(t[0][1] for t in mine) - min(t[0][0] for t in mine)
    neighbours = (rt.rank > 0) + (rt.rank < rt.nranks - 1)
    rows, cols = store.buffer.shape
    assert cols == n + 2 and own_rows <= rows <= own_rows + 2 * neighbours, (
        rows, own_rows, neighbours)
    row_bytes = (n + 2) * 8
    # the grid's share with its ghost rows (`work` is computed in place, never stored;
    # its store's buffer is still allocated, untouched, when it is made: several steps in
    # flight without a sync count each one's in VmSize, though not in memory used)
    assert grown <= (own_rows + 2 * neighbours) * row_bytes * 1.05, (grown, own_rows)
    assert rt.globalized == 0
    print(repr(checksum))
""")


def _numpy_stencil_checksum(n: int, iters: int) -> str:
    import numpy

    space: dict = {}
    exec(STENCIL_FN, space)
    return repr(float(space["stencil"](numpy, n, iters).sum()))


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_stencil_holds_its_share_plus_ghost_rows(mpiexec, ranks):
    r = run_code(mpiexec, ranks, STENCIL.replace("n = N", "n = 3000"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == _numpy_stencil_checksum(3000, 3)


def test_the_stencil_runs_under_an_address_space_limit_below_the_grid(mpiexec):
    """RLIMIT_AS below the global grid's size (so below what every rank reserved before)
    but above a rank's share plus an empty run's baseline: NumPy's checksum."""
    n = 12000  # grid 1.07 GiB; each rank's share 0.54 GiB
    code = STENCIL.replace("n = N", f"n = {n}").replace(
        "\nbefore = vmsize()\n",
        "\nbefore = vmsize()\n"
        "import resource\n"
        f"limit = before + {(n + 2) ** 2 * 8} - (64 << 20)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n")
    assert "setrlimit" in code
    r = run_code(mpiexec, 2, code, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == _numpy_stencil_checksum(n, 3)


def test_a_share_that_does_not_fit_names_the_array_and_its_bytes_per_rank(mpiexec):
    r = run_code(mpiexec, 2, """
        import resource
        import hpcarray as np
        keep = np.ones((2000, 2000))
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        a = np.zeros((60000, 60000))
    """)
    assert r.returncode != 0
    # each rank's block: about half the rows (tile edges fall on reduction blocks)
    assert re.search(r"cannot allocate 13\.4 GiB for an array of shape \(60000, 60000\) "
                     r"\(its block \(300\d\d, 60000\)\) and dtype float64", r.stderr), \
        r.stderr[-3000:]
    assert "shape (2000, 2000) float64" in r.stderr
    assert "Unable to allocate" not in r.stderr


def test_gathers_and_replicated_operations_leave_each_rank_its_share(mpiexec):
    """print/np.asarray and an operation that runs replicated (here a reduction with
    where=) gather into temporaries: afterwards each rank still holds only its block."""
    r = run_code(mpiexec, 3, """
        import numpy
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        a0 = numpy.random.default_rng(1).random((3000, 400))
        a = np.asarray(a0) * 2.0
        mask = np.asarray(a0 > 0.5)
        got = np.subtract.reduce(a, axis=0, where=mask, initial=0.0)
        want = numpy.subtract.reduce(a0 * 2.0, axis=0, where=a0 > 0.5, initial=0.0)
        assert numpy.array_equal(numpy.asarray(got), want)
        assert numpy.array_equal(numpy.asarray(a), a0 * 2.0)
        b = a.reshape(1000, 1200)  # a reshape keeps the blocks too
        b[::7] += 1.0
        want = (a0 * 2.0).reshape(1000, 1200)
        want[::7] += 1.0
        assert numpy.array_equal(numpy.asarray(b), want)
        store = a._v.store
        assert store.blocked and store.buffer.nbytes < a.nbytes / 2, store.buffer.shape
        assert rt.globalized == 0
        print("ok")
    """, HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


@pytest.mark.parametrize("ranks", [2, 3])
def test_far_reads_come_as_copies_and_leave_each_rank_its_share(mpiexec, ranks):
    """A transpose or a reversal reads other ranks' tiles far from a rank's own: each
    task gets them as its own temporary copy (store.Borrowed), so no rank's block grows
    to the whole array (as it did before: 2000 of 2000 rows at 2 ranks)."""
    r = run_code(mpiexec, ranks, """
        import numpy
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        n = 1200
        ref = numpy.random.default_rng(0).random((n, n))
        a = np.array(ref)
        b, want_b = a + a.T, ref + ref.T
        c, want_c = np.flip(a, 0) * 2.0, numpy.flip(ref, 0) * 2.0
        d, want_d = a[::-1, ::-1] - a, ref[::-1, ::-1] - ref
        for _ in range(2):  # again: the copies are not kept, and the data is current
            a += 1.0
            ref += 1.0
            d, want_d = d + a.T, want_d + ref.T
        for got, want in ((b, want_b), (c, want_c), (d, want_d)):
            assert numpy.array_equal(numpy.asarray(got), want)
        tiling = a._v.store.tiling
        own = sum(t[0][1] - t[0][0] for t, o in zip(tiling.tiles, tiling.owners)
                  if o == rt.rank)
        for x in (a, b, c, d):
            rows = x._v.store.block.extents[0]
            assert rows <= own + 2, (rows, own)
        assert rt.globalized == 0
        print("ok")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_real_imag_and_dtype_views_run_on_each_ranks_block(mpiexec, ranks):
    """`.real`, `.imag` and views as a dtype of the same itemsize of an array held as
    blocks keep its tiles (store.PartBlock): reads and writes through them run where the
    tiles are, halos move the root's whole elements, the root and its parts see each
    other's writes across ranks, no rank is made to hold a whole array (as each was
    before: Runtime.globalize) and every block stays its rank's share. Tiny tiles."""
    r = run_code(mpiexec, ranks, """
        import numpy
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        rng = numpy.random.default_rng(7)

        def same(got, want):
            got = numpy.asarray(got)
            assert got.dtype == want.dtype and got.shape == want.shape, (got, want)
            assert numpy.array_equal(got, want), (got, want)

        n, m = 60, 9
        zr = rng.random((n, m)) + 1j * rng.random((n, m))
        z = np.array(zr)
        same(z.real, zr.real)
        same(z.imag, zr.imag)
        z.real[1:-1] += z.imag[:-2]        # reads the rows above: across ranks
        zr.real[1:-1] += zr.imag[:-2]
        same(z, zr)
        z.imag[...] = 0
        zr.imag[...] = 0
        same(z, zr)
        z += 2j * z.real                   # the root's write, then read through parts
        zr += 2j * zr.real
        same(z.imag, zr.imag)
        re = z.real
        for _ in range(4):                 # a stencil on the real part: halos each step
            re[1:-1, 1:-1] = 0.25 * (re[:-2, 1:-1] + re[2:, 1:-1] + re[1:-1, :-2]
                                     + re[1:-1, 2:])
            zr.real[1:-1, 1:-1] = 0.25 * (zr.real[:-2, 1:-1] + zr.real[2:, 1:-1]
                                          + zr.real[1:-1, :-2] + zr.real[1:-1, 2:])
            z.imag[1:-1] -= re[:-2]        # the other part, reading the new real part
            zr.imag[1:-1] -= zr.real[:-2]
        same(z, zr)
        assert numpy.isclose(float(z.real.sum()), zr.real.sum(), rtol=1e-12, atol=0)
        same(np.max(z.imag, axis=1), zr.imag.max(axis=1))
        assert numpy.allclose(numpy.asarray(np.sum(z.real, axis=0)), zr.real.sum(axis=0),
                              rtol=1e-12, atol=0)
        same(z.real[::-1] - z.imag, zr.real[::-1] - zr.imag)   # a far read: borrowed
        z[3:7].imag = 1.5                  # a window's part
        zr[3:7].imag = 1.5
        same(z, zr)
        same(z.imag[[0, 31, 59]], zr.imag[[0, 31, 59]])   # elements moved, not tiles
        z.real[[1, 30, 58], 2] = -1.0
        zr.real[[1, 30, 58], 2] = -1.0
        same(z, zr)

        ar = rng.random((n, m))
        a = np.array(ar)
        bits = a.view(np.int64)
        same(bits, ar.view(numpy.int64))
        bits[::5] = 4607182418800017408    # 1.0's bits, written through the view
        ar.view(numpy.int64)[::5] = 4607182418800017408
        same(a, ar)
        a[1:] += a[:-1]                    # the root's write, seen through the view
        ar[1:] += ar[:-1]
        same(bits, ar.view(numpy.int64))
        back = bits.view(np.float64)
        back[2:-2] *= 3.0
        ar.view(numpy.int64).view(numpy.float64)[2:-2] *= 3.0
        same(a, ar)
        same(z.real.view(np.int64)[1:], zr.real.view(numpy.int64)[1:])

        assert rt.globalized == 0
        for x in (z, a):
            store = x._v.store
            tiling = store.tiling
            own = sum(t[0][1] - t[0][0] for t, o in zip(tiling.tiles, tiling.owners)
                      if o == rt.rank)
            rows = store.block.extents[0]
            assert store.blocked == (rt.nranks > 1) and rows <= own + 2, (rows, own)
        print("ok")
    """, HPCARRAY_TEST="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
