"""What every backend provides (see the package's docstring)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from hpcarray.runtime.backend import report


class Backend:
    """One rank's memory and kernels. Subclasses set `name`, `xp`, `kernels` and `pool`,
    and implement `_allocate`."""

    name: str
    xp: ModuleType
    kernels: ModuleType
    pool = None

    def __init__(self) -> None:
        self.live = report.LiveArrays()

    def allocate(self, shape: tuple[int, ...], dtype: np.dtype, zero: bool = False,
                 array_shape: tuple[int, ...] | None = None):
        """A store's memory (contents undefined unless `zero`): `shape` is the rank's
        block of an array of `array_shape` (the same by default). Running out raises the
        allocation report (report.py), not the bare library message."""
        try:
            return self._allocate(shape, dtype, zero)
        except MemoryError:
            raise report.allocation_error(shape, dtype, self.live,
                                          array_shape or shape) from None

    def _allocate(self, shape: tuple[int, ...], dtype: np.dtype, zero: bool):
        raise NotImplementedError

    def bind_thread(self) -> None:
        """Called first on each thread of the runtime that computes on tiles (workers, the
        progress thread): a GPU backend makes its stream current there. Nothing here."""

    def timer(self, now):
        """What times tasks on the device for the trace (cupy/timing.GpuTimer), given the
        recorder's clock `now`; None where tasks run on the host (their host times are
        the times)."""
        return None

    def message_buffer(self, shape: tuple[int, ...], dtype: np.dtype):
        """Where a received message lands before it is copied into its store."""
        return self.allocate(shape, dtype)

    def incoming(self, dest, data) -> None:
        """Copy a received message (in a message_buffer) into tile memory `dest`."""
        dest[...] = data

    def outgoing(self, arr):
        """What a send hands MPI for `arr` (a view of tile memory): contiguous memory MPI
        can read."""
        return np.ascontiguousarray(arr)

    def to_host(self, arr) -> np.ndarray:
        """Backend memory as a host NumPy array (no copy where it already is one)."""
        raise NotImplementedError

    def from_host(self, arr: np.ndarray):
        """A host array in backend memory (no copy where that is host memory)."""
        raise NotImplementedError
