"""The allocation report: what a rank holds when an array does not fit.

A bare "Unable to allocate 27.7 GiB" tells a user of 64 ranks nothing about which rank,
which of their arrays, or what else is taking the memory. Each backend keeps a weak
registry of its big live allocations (where the program made them, and how big); when
an allocation fails, the MemoryError names the array's shape and dtype, the bytes this
rank needed for it, and the largest arrays this rank holds.
"""

from __future__ import annotations

import os
import threading
import weakref

import numpy as np

from hpcarray.runtime.trace import user_source_line

# Allocations smaller than this are not worth naming (and cost nothing to skip).
TRACKED_BYTES = 1 << 20
# How many of the largest live arrays the report lists.
LISTED = 5


def _rank_text() -> str:
    """'rank R of N' when running under MPI (from the launcher's environment)."""
    for rank_var, size_var in (("PMI_RANK", "PMI_SIZE"),
                               ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")):
        if rank_var in os.environ:
            return f"rank {os.environ[rank_var]} of {os.environ.get(size_var, '?')}"
    return "this process"


def byte_text(n: int) -> str:
    """Bytes as NumPy's allocation message writes them (27.7 GiB)."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


class LiveArrays:
    """Weak registry of big allocations: owner (a store) -> (shape, dtype, bytes, user
    line), each dropped with its owner."""

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def add(self, owner: object, shape: tuple[int, ...], dtype: np.dtype, nbytes: int) -> None:
        """Track `owner` while it lives, if it is big."""
        if nbytes < TRACKED_BYTES:
            return
        entry = (shape, dtype, nbytes, user_source_line())
        with self._lock:
            self._entries[owner] = entry

    def _values(self) -> list[tuple]:
        with self._lock:
            return list(self._entries.values())

    def largest(self, count: int = LISTED) -> list[tuple]:
        return sorted(self._values(), key=lambda e: -e[2])[:count]

    def total(self) -> int:
        return sum(e[2] for e in self._values())


def allocation_error(shape: tuple[int, ...], dtype: np.dtype, live: LiveArrays,
                     array_shape: tuple[int, ...] | None = None) -> MemoryError:
    """`shape`: what the rank could not allocate, its block of an array of `array_shape`."""
    dtype = np.dtype(dtype)
    array_shape = tuple(shape if array_shape is None else array_shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    share = "" if array_shape == tuple(shape) else f" (its block {tuple(shape)})"
    lines = [f"hpcarray: {_rank_text()} cannot allocate {byte_text(nbytes)} for an array "
             f"of shape {array_shape}{share} and dtype {dtype} (made at "
             f"{user_source_line()})."]
    largest = live.largest()
    if largest:
        lines.append(f"This rank holds {byte_text(live.total())} in arrays of 1 MiB or more; "
                     "the largest:")
        lines += [f"  {byte_text(b):>10}  shape {s} {d}, made at {where}"
                  for s, d, b, where in largest]
    else:
        lines.append("This rank holds no other arrays of 1 MiB or more.")
    lines.append("Run on more ranks or nodes, or free arrays you no longer need (del x).")
    return MemoryError("\n".join(lines))
