"""A system MPI works too: Debian's Open MPI with mpi4py built from source against it
(tests/mpi/system_mpi/build.sh), launched by its own mpiexec. CI requires it
(HPCARRAY_REQUIRE_SYSTEM_MPI=1); elsewhere the tests are skipped when it cannot be built."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .test_mpi import STENCIL, checksum, clean_env

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.mpi


@pytest.fixture(scope="session")
def system_mpi():
    target = Path(os.environ.get("HPCARRAY_SYSTEM_MPI_DIR")
                  or Path.home() / ".cache" / "hpcarray" / "system-mpi4py")
    r = subprocess.run(["bash", str(HERE / "system_mpi" / "build.sh"), sys.executable,
                        str(target)], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        if os.environ.get("HPCARRAY_REQUIRE_SYSTEM_MPI"):
            pytest.fail(f"cannot build mpi4py against the system MPI:\n{r.stderr[-3000:]}")
        pytest.skip("no system MPI (openmpi-bin, libopenmpi-dev) to build mpi4py against")
    mpiexec = "/usr/bin/mpiexec"
    env = clean_env(PYTHONPATH=str(target), OMPI_ALLOW_RUN_AS_ROOT="1",
                    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return mpiexec, env, r.stdout.strip()


def run(system_mpi, n, args, **extra):
    mpiexec, env, _ = system_mpi
    return subprocess.run([mpiexec, "-n", str(n), sys.executable, *args],
                          env={**env, **extra}, capture_output=True, text=True, timeout=120)


def test_the_stencil_runs_on_open_mpi_with_the_same_checksum(system_mpi):
    assert "Open MPI" in system_mpi[2]
    args = [str(STENCIL), "--package", "hpcarray", "-n", "120", "--iters", "15"]
    sums = set()
    for n in (1, 2, 3):
        r = run(system_mpi, n, args, HPCARRAY_MIN_SPLIT="64")
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("checksum:") == 1
        sums.add(checksum(r.stdout))
    single = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            env=clean_env(HPCARRAY_MIN_SPLIT="64"), timeout=120)
    assert sums == {checksum(single.stdout)}


def test_a_failing_rank_ends_an_open_mpi_job(system_mpi):
    code = textwrap.dedent("""
        import hpcarray as np
        from hpcarray.runtime import get_runtime
        a = np.ones((200, 200))
        for i in range(1000):
            a = a * 1.0
            if i == 5 and get_runtime().rank == 1:
                raise RuntimeError("open mpi rank gives up")
            float(a.sum())
    """)
    start = time.monotonic()
    r = run(system_mpi, 3, ["-c", code], HPCARRAY_MIN_SPLIT="1000")
    assert r.returncode != 0
    assert time.monotonic() - start < 15
    assert "[rank 1]" in r.stderr and r.stderr.count("open mpi rank gives up") == 1
