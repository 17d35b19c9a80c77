"""Sharded I/O at several ranks: the tests of tests/io inside 2 and 3 MPI ranks (tiny
uneven tiles spread over the ranks), and files written at 3 ranks read at 2 and at 1."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .test_mpi import ROOT, run_code

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("ranks", [2, 3])
def test_io_suite_at_several_ranks(mpiexec, ranks):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDI_", "MPI_"))}
    env.update(HPCARRAY_TEST="1", HPCARRAY_WORKERS="1", MPIR_CVAR_ENABLE_HEAVY_YIELD="1",
               PYTHONHASHSEED="0")
    cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "pytest", "-q", "-x",
           "-p", "no:cacheprovider", "--timeout", "300", "tests/io"]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-60:])
    assert r.returncode == 0, f"{ranks} ranks:\n{tail}"


# The same arrays at every rank count (NumPy's generator), as files of every kind.
CODE = """
    import sys, numpy, hpcarray as np
    from hpcarray.runtime import get_runtime
    d, mode = sys.argv[1], sys.argv[2]
    rng = numpy.random.default_rng(3)
    x = rng.standard_normal((37, 23))
    y = (rng.random((5, 6, 7)) * 200 - 100).astype(numpy.int8)
    if mode == "write":
        a, b = np.asarray(x) * 1.0, np.asarray(y) + 0
        np.save(f"{d}/x.npy", a)
        np.save(f"{d}/f.npy", a.T)
        np.savez(f"{d}/s.npz", x=a, y=b)
        b.tofile(f"{d}/y.bin")
        np.io.to_zarr(a, f"{d}/x.zarr")
        np.io.to_hdf5(b, f"{d}/y.h5", "y")
    else:
        def same(got, want):
            assert isinstance(got, np.ndarray)
            assert numpy.asarray(got).tobytes() == want.tobytes(), mode
        same(np.load(f"{d}/x.npy"), x)
        same(np.load(f"{d}/f.npy"), x.T)
        with np.load(f"{d}/s.npz") as z:
            same(z["x"], x)
            same(z["y"], y)
        same(np.fromfile(f"{d}/y.bin", dtype=numpy.int8), y.ravel())
        same(np.io.from_zarr(f"{d}/x.zarr"), x)
        same(np.io.from_hdf5(f"{d}/y.h5", "y"), y)
    sys.stderr.write(f"DONE {get_runtime().rank}\\n")
"""


def test_written_at_3_ranks_read_at_2_and_1(mpiexec, tmp_path):
    pytest.importorskip("zarr")
    pytest.importorskip("h5py")
    for ranks, mode in ((3, "write"), (2, "read"), (1, "read")):
        r = run_code(mpiexec, ranks, CODE.replace("sys.argv[1], sys.argv[2]",
                                                  f"{str(tmp_path)!r}, {mode!r}"),
                     HPCARRAY_TEST="1")
        assert r.returncode == 0, f"{mode} at {ranks}: {r.stderr[-3000:]}"
        assert r.stderr.count("DONE") == ranks, r.stderr[-3000:]
