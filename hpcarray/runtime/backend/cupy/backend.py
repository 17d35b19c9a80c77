"""CupyBackend: a rank's tiles in its GPU's memory, fused plans as generated kernels.

A rank's GPU work goes on one non-blocking CUDA stream the backend owns: every thread of
the runtime that launches work makes it current (bind_thread: the main thread here, the
workers and the progress thread as they start), so work is ordered by the stream and
launches return at once. The host waits for the stream only where values reach it:
to_host, a message sent (copied to pinned host memory, or handed to CUDA-aware MPI), a
CUDA-aware receive buffer (MPI writes it outside the stream's order). Received pinned
messages are copied in without a wait: CuPy stages host data through its own pinned
buffer, kept until the copy is done.

UNVERIFIED: written where no GPU is (see kernels.py); scripts/gpu-check.sh exercises it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from hpcarray.runtime.backend.base import Backend
from hpcarray.runtime.backend.cupy import kernels, mpi, timing

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
        self.device.use()
        self.stream = cupy.cuda.Stream(non_blocking=True)  # (made on self.device)
        self.bind_thread()  # this thread's: the runtime's others bind as they start
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

    def bind_thread(self) -> None:
        """This thread's CUDA device and current stream: the rank's."""
        self.device.use()
        self.stream.use()

    def timer(self, now):
        return timing.GpuTimer(self.xp.cuda, self.stream, self.device_id, now)

    def message_buffer(self, shape, dtype):
        """Device memory where MPI is CUDA-aware; else pinned host memory (a copy to the
        GPU at the full PCIe rate follows)."""
        if self.cuda_aware:
            buffer = self.allocate(shape, dtype)
            # The pool may hand out memory that work queued on the stream still uses;
            # MPI writes it outside the stream's order.
            self.stream.synchronize()
            return buffer
        return self.cupyx.empty_pinned(shape, np.dtype(dtype))

    def outgoing(self, arr):
        """What a send hands MPI: the device array itself where MPI is CUDA-aware (made
        contiguous), else a pinned host copy; either way, once the stream has got there."""
        cp = self.xp
        with self.device:
            arr = cp.ascontiguousarray(arr)
            if self.cuda_aware:
                self.stream.synchronize()  # MPI reads it outside the stream's order
                return arr
            host = self.cupyx.empty_pinned(arr.shape, arr.dtype)
            arr.get(stream=self.stream, out=host)  # blocking: the host waits for the copy
            return host

    def incoming(self, dest, data) -> None:
        with self.device:
            dest[...] = data  # on the stream; host data is staged by CuPy (module docstring)

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
            return self.xp.asnumpy(arr, stream=self.stream)  # the host waits for the stream

    def from_host(self, arr: np.ndarray):
        with self.device:
            return self.xp.asarray(arr)
