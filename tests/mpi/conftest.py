import shutil
import sys
from pathlib import Path

import pytest

MPIEXEC = Path(sys.executable).parent / "mpiexec"


@pytest.fixture(scope="session")
def mpiexec() -> str:
    path = str(MPIEXEC) if MPIEXEC.exists() else shutil.which("mpiexec")
    if path is None:
        pytest.skip("no mpiexec: pip install 'hpcarray[mpi]' (mpi4py + the mpich wheel)")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed: pip install 'hpcarray[mpi]'")
    return path
