"""CupyBackend: a rank's tiles in its GPU's memory, fused plans as generated kernels.

UNVERIFIED: written where no GPU is (see kernels.py); scripts/gpu-check.sh exercises it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from hpcarray.runtime.backend.base import Backend
from hpcarray.runtime.backend.cupy import kernels, mpi

# The memory pool's default limit: this share of the GPU's memory (the rest: cuBLAS and
# cuFFT workspaces, CUDA contexts, MPI's buffers).
DEFAULT_FRACTION = 0.9


class CupyBackend(Backend):
    name = "cupy"
    kernels = kernels

    def __init__(self, cupy: ModuleType, device: int, memory_bytes: int = 0,
                 cuda_aware: bool | None = None, cupyx: ModuleType | None = None):
        super().__init__()
        self.xp = cupy
        self._cupyx = cupyx  # pinned host memory (imported when first needed)
        self.device_id = device
        self.device = cupy.cuda.Device(device)
        self.device.use()  # this thread; worker threads enter self.device around calls
        kernels.use_device(device)
        # Blocks come from CuPy's pool (freed blocks are reused at once: no BufferPool);
        # its limit makes running out a MemoryError, which Backend.allocate reports.
        self.memory_pool = cupy.get_default_memory_pool()
        if memory_bytes > 0:
            self.memory_pool.set_limit(size=memory_bytes)
        else:
            self.memory_pool.set_limit(fraction=DEFAULT_FRACTION)
        self.cuda_aware = mpi.cuda_aware() if cuda_aware is None else cuda_aware

    def _allocate(self, shape, dtype, zero):
        cp = self.xp
        with self.device:
            try:
                return cp.zeros(shape, dtype) if zero else cp.empty(shape, dtype)
            except cp.cuda.memory.OutOfMemoryError as err:  # a MemoryError: the report
                raise MemoryError(str(err)) from None

    def message_buffer(self, shape, dtype):
        """Device memory where MPI is CUDA-aware; else pinned host memory (a copy to the
        GPU at the full PCIe rate follows)."""
        if self.cuda_aware:
            return self.allocate(shape, dtype)
        return self.cupyx.empty_pinned(shape, np.dtype(dtype))

    def outgoing(self, arr):
        """What a send hands MPI: the device array itself where MPI is CUDA-aware (made
        contiguous), else a pinned host copy."""
        cp = self.xp
        with self.device:
            arr = cp.ascontiguousarray(arr)
            if self.cuda_aware:
                cp.cuda.get_current_stream().synchronize()  # MPI reads it from the host side
                return arr
            host = self.cupyx.empty_pinned(arr.shape, arr.dtype)
            arr.get(out=host)
            return host

    @property
    def cupyx(self) -> ModuleType:
        if self._cupyx is None:
            import cupyx

            self._cupyx = cupyx
        return self._cupyx

    def to_host(self, arr) -> np.ndarray:
        if isinstance(arr, np.ndarray):
            return arr
        with self.device:
            return self.xp.asnumpy(arr)

    def from_host(self, arr: np.ndarray):
        with self.device:
            return self.xp.asarray(arr)
