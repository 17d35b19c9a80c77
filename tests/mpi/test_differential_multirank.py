"""The differential test suite (results equal to NumPy's) run again inside 2 and 3 MPI
ranks, with tiny forced tiles spread over the ranks (odd counts, uneven tiles)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ["tests/test_ufuncs.py", "tests/test_ufunc_methods.py", "tests/test_reductions.py",
         "tests/test_creation.py", "tests/test_ndarray.py", "tests/test_manipulation.py",
         "tests/test_joining.py", "tests/test_indexing.py", "tests/test_linalg.py",
         "tests/test_random.py", "tests/test_sorting.py", "tests/test_statistics.py",
         "tests/test_submodules.py"]

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("ranks", [2, 3])
def test_differential_suite_at_several_ranks(mpiexec, ranks):
    files = [f for f in SUITE if (ROOT / f).exists()]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDI_", "MPI_"))}
    env.update(HPCARRAY_TEST="1", HPCARRAY_WORKERS="1", MPIR_CVAR_ENABLE_HEAVY_YIELD="1",
               PYTHONHASHSEED="0")
    cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "pytest", "-q", "-x",
           "-p", "no:cacheprovider", "--timeout", "600", *files]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-60:])
    assert r.returncode == 0, f"{ranks} ranks:\n{tail}"
