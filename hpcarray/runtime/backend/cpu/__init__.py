"""The CPU backend: NumPy buffers in host memory, numba-compiled fused kernels."""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.backend.base import Backend
from hpcarray.runtime.backend.cpu import kernels
from hpcarray.runtime.backend.cpu.pool import BufferPool, default_limit


class CpuBackend(Backend):
    name = "cpu"
    xp = np
    kernels = kernels

    def __init__(self, pool_bytes: int, nranks: int):
        super().__init__()
        if pool_bytes:
            limit = pool_bytes if pool_bytes > 0 else default_limit(nranks)
            self.pool = BufferPool(limit)

    def _allocate(self, shape, dtype, zero):
        return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)

    outgoing = staticmethod(np.ascontiguousarray)  # (no bound-method layer per message)

    def to_host(self, arr) -> np.ndarray:
        return arr

    def from_host(self, arr: np.ndarray) -> np.ndarray:
        return arr
