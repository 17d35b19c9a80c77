"""Whether the MPI library moves GPU buffers itself (CUDA-aware), as the library reports it."""

from __future__ import annotations

import ctypes
import os


def cuda_aware() -> bool:
    """MPIX_Query_cuda_support() of the loaded MPI library where it has it (Open MPI,
    MPICH 4+); Cray MPICH: MPICH_GPU_SUPPORT_ENABLED=1. False otherwise (messages are then
    staged through pinned host buffers)."""
    if os.environ.get("MPICH_GPU_SUPPORT_ENABLED") == "1":
        return True
    try:
        from mpi4py import MPI  # noqa: F401 - loads the MPI library
    except ImportError:
        return False
    for path in _loaded_mpi_libraries():
        try:
            query = ctypes.CDLL(path).MPIX_Query_cuda_support
        except (OSError, AttributeError):
            continue
        query.restype = ctypes.c_int
        return bool(query())
    return False


def _loaded_mpi_libraries() -> list[str]:
    """Paths of the libmpi* shared objects mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "libmpi" in line}
    except OSError:
        return []
    return sorted(p for p in paths if os.path.basename(p).startswith("libmpi"))
