"""The backend seam: where a rank's tile memory and kernels live.

Everything above this package (partitioning, dependence analysis, the scheduler's
bookkeeping, distribution, fusion's grouping, the trace) is backend-neutral. A backend
provides, for one rank:
- `xp`: the array namespace per-tile task bodies compute with (NumPy; CuPy on a GPU);
- `allocate(shape, dtype, zero)`: a store's memory, with the allocation report of
  report.py when it does not fit; `pool`: buffers of dead stores kept for reuse;
- `message_buffer(shape, dtype)`, `to_host(arr)`, `from_host(arr)`: what messages and
  gathers move between ranks and to Python;
- `kernels`: the executor of fused plans (code generation and its compile cache).
The backend is chosen per rank from one setting, `HPCARRAY_BACKEND` (Settings.backend):
"cpu"; "cupy" (cupy/: one GPU per rank, by local rank); "auto" (CuPy where this rank sees a
GPU and CuPy imports, else the CPU backend, saying why in one line).
"""

from __future__ import annotations

import sys

from hpcarray.runtime.backend.base import Backend

# Backends by setting name ("auto" picks one of them).
NAMES = ("cpu", "cupy")


class BackendUnavailable(SystemExit):
    """HPCARRAY_BACKEND=cupy where CuPy cannot run: the program ends with this one line
    (a SystemExit: no traceback from deep inside the runtime's start)."""


def select(name: str, pool_bytes: int, nranks: int, *, rank: int = 0,
           gpu_memory_bytes: int = 0) -> Backend:
    """The backend for this rank, by setting name. `gpu_memory_bytes`: the GPU memory
    pool's limit (0: most of the GPU's memory)."""
    if name in ("cupy", "auto"):
        from hpcarray.runtime.backend.cupy import device

        found = device.probe(device.local_rank(nranks))
        if not isinstance(found, str):
            from hpcarray.runtime.backend.cupy.backend import CupyBackend

            cupy, index = found
            return CupyBackend(cupy, index, gpu_memory_bytes)
        if name == "cupy":
            raise BackendUnavailable(f"hpcarray: error: HPCARRAY_BACKEND=cupy: {found}")
        if rank == 0:
            print(f"hpcarray: HPCARRAY_BACKEND=auto: running on the CPU: {found}",
                  file=sys.stderr)
        name = "cpu"
    if name == "cpu":
        from hpcarray.runtime.backend.cpu import CpuBackend

        return CpuBackend(pool_bytes, nranks)
    raise ValueError(f"HPCARRAY_BACKEND={name!r}: no such backend here "
                     f"(available: {', '.join(NAMES + ('auto',))})")


__all__ = ["Backend", "BackendUnavailable", "NAMES", "select"]
