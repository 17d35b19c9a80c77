"""TEST DOUBLE: the GPU backend on fake_cupy (no GPU can run here).

CupyBackend itself runs (memory, messages, host copies: backend/cupy/backend.py); only its
kernels cannot (generated CUDA): fused plans run through the CPU executor on the arrays
inside the device arrays. Everything outside backend/ sees device arrays only.
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.backend.cupy import kernels as cuda_kernels
from hpcarray.runtime.backend.cupy.backend import CupyBackend
from tests.gpu_double import fake_cupy


def _inner(arrays: list) -> list:
    """The host arrays inside device arrays; a NumPy array here is a bug outside backend/
    (a generated kernel cannot take host memory)."""
    inner = []
    for a in arrays:
        if type(a) is np.ndarray:
            raise TypeError(f"a fused plan got a host array {a.shape} {a.dtype}: tile "
                            "memory must be device memory")
        inner.append(a._a if type(a) is fake_cupy.ndarray else a)
    return inner


class Plan(cuda_kernels.Plan):
    """The GPU plan (same building, same fallbacks: no flat rows), run by the CPU's
    blocked NumPy executor instead of a generated kernel."""

    def runner(self, ndim: int, jit: str, size: int):
        def run(outs, leaves):
            if outs and outs[0].size:
                fake_cupy.counts.launch()  # where the generated kernel would launch
                self._run_blocked(_inner(outs), _inner(leaves))
        return run


class kernels:  # noqa: N801 - stands where the module backend/cupy/kernels.py stands
    EXPRESSIONS = cuda_kernels.EXPRESSIONS
    Plan = Plan


class DoubleBackend(CupyBackend):
    """CupyBackend(fake_cupy, 0) with the double's kernels and MPI staged through host
    buffers (MPI cannot take the double's arrays as device buffers)."""

    kernels = kernels

    def __init__(self, memory_bytes: int = 0):
        super().__init__(fake_cupy, 0, memory_bytes, cuda_aware=False,
                         cupyx=fake_cupy.cupyx)


def select(name: str, pool_bytes: int, nranks: int, *, rank: int = 0,
           gpu_memory_bytes: int = 0) -> DoubleBackend:
    """backend.select, whatever the setting: the double."""
    return DoubleBackend(gpu_memory_bytes)
