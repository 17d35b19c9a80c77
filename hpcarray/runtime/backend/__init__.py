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
The backend is chosen per rank from one setting, `HPCARRAY_BACKEND` (Settings.backend).
"""

from __future__ import annotations

from hpcarray.runtime.backend.base import Backend

# Backends by setting name. A GPU backend adds itself here.
NAMES = ("cpu",)


def select(name: str, pool_bytes: int, nranks: int) -> Backend:
    """The backend for this rank, by setting name."""
    if name == "cpu":
        from hpcarray.runtime.backend.cpu import CpuBackend

        return CpuBackend(pool_bytes, nranks)
    raise ValueError(f"HPCARRAY_BACKEND={name!r}: no such backend here "
                     f"(available: {', '.join(NAMES)})")


__all__ = ["Backend", "NAMES", "select"]
