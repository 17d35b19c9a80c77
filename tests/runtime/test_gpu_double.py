"""The GPU backend's seam, on a TEST DOUBLE of CuPy (tests/gpu_double: no GPU can run here).

Under the double, tile memory is device arrays that NumPy cannot take implicitly (CuPy's
TypeError), so front-end or runtime code that treats tiles as NumPy arrays fails here as it
would on a GPU. A representative part of the differential suite runs on it, at 1 rank and
at 2 (messages staged through host buffers), so the seam cannot regress.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.gpu_double import fake_cupy
from tests.gpu_double.backend import DoubleBackend

ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
# Differential tests that pass on the double (more once the rest of the seam is done):
# ufuncs; read-only views, flags and every kind of write into read-only device data (the
# flag kept by the front end); host index arrays and values moved to the device (take,
# put, place, putmask, choose, select, ufunc.at, a.flat with index arrays); fast paths
# (host only) and NumPy fallbacks (host copies).
SUBSET = ["tests/test_ufuncs.py", "tests/test_indexing.py", "tests/test_ndarray.py",
          "tests/test_ufunc_methods.py", "tests/test_random.py", "-k",
          "every_ufunc_every_dtype and (add or sin or divmod or maximum or isnan) "
          "or broadcasting_where_and_out or inplace_on_views or out_errors "
          "or fast_path_matches_numpy or fast_path_operators or readonly_views or test_flat "
          "or read_only_arrays "
          "or place_putmask_choose_select or nonzero_family or take_and_along_axis "
          "or attributes or every_ndarray_method or ufunc_at or generator_api "
          "or legacy_array_parameters_and_shuffle"]


def test_the_double_refuses_what_cupy_refuses():
    x = fake_cupy.asarray(np.arange(6.0))
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Unsupported type"):
        np.add(x, np.ones(6))
    assert type(np.sum(x)) is fake_cupy.ndarray and np.sum(x).ndim == 0  # 0-d, as CuPy
    assert type(x[1]) is fake_cupy.ndarray
    assert not hasattr(x.flags, "writeable")  # device arrays have no writeable flag
    assert type(x.flat[1:3]) is fake_cupy.ndarray  # x.flat: a property, as CuPy's
    with pytest.raises(IndexError, match="unsupported iterator index"):
        x.flat[np.array([0, 1])]  # CuPy 14.2's flatiter takes no index arrays
    np.testing.assert_array_equal((x * 2).get(), np.arange(6.0) * 2)


def test_running_out_of_device_memory_is_the_allocation_report():
    backend = DoubleBackend(memory_bytes=1 << 20)
    try:
        backend.allocate((1000,), np.float64)  # fits
        with pytest.raises(MemoryError, match=r"cannot allocate 7.6 MiB for an array of "
                                              r"shape \(1000000,\)"):
            backend.allocate((1000000,), np.float64)
    finally:
        fake_cupy.get_default_memory_pool().set_limit(size=0)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPCARRAY_")}
    env.update(HPCARRAY_TEST="1", HPCARRAY_TEST_GPU_DOUBLE="1", PYTHONPATH=str(ROOT))
    return env


def _pytest(prefix: list[str], workers: str) -> subprocess.CompletedProcess:
    env = _env()
    env["HPCARRAY_WORKERS"] = workers
    return subprocess.run([*prefix, sys.executable, "-m", "pytest", "-q", "-x",
                           "-p", "no:cacheprovider", *SUBSET],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.no_mpi
def test_differential_subset_on_the_double_at_one_rank():
    r = _pytest([], "2")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


@pytest.mark.no_mpi
@pytest.mark.mpi
def test_differential_subset_on_the_double_at_two_ranks():
    if not MPIEXEC.exists():
        pytest.skip("no mpiexec: pip install 'hpcarray[mpi]'")
    r = _pytest([str(MPIEXEC), "-n", "2"], "1")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
