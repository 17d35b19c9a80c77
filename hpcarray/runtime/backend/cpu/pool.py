"""Reusing the buffers of dead stores.

A fresh big NumPy buffer costs a page fault and a page of zeros from the kernel on first
touch of every page: for a loop that makes a new result array every iteration (the
stencil's `work`) that is about as much time as the computation itself. When a store made
by `Runtime.new_store` dies, its buffer is kept here; a new store of the same shape and
dtype takes it back once nothing else uses it (no pending task, no NumPy view that a user
holds), which is checked from the buffer's reference count when it is taken.

A store that the program dropped but pending tasks still use (last iteration's `work`,
still being copied) is *dying*: rather than touch a fresh buffer, a new store of its shape
may wait for those tasks and take its buffer (Runtime.new_store). Then a loop needs one
result buffer, not two alternating ones.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref

import numpy as np

# Buffers smaller than this are cheap to allocate: not pooled.
MIN_BYTES = 1 << 20
# Buffers kept at most (the oldest go first).
MAX_BUFFERS = 8


def default_limit(nranks: int) -> int:
    """Bytes a rank's pool may hold: a quarter of the machine's memory, shared by ranks."""
    try:
        phys = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        phys = 1 << 32
    return phys // 4 // max(1, nranks)


class BufferPool:
    def __init__(self, limit_bytes: int):
        self.limit = limit_bytes
        self.lock = threading.Lock()
        self.kept: list[np.ndarray] = []
        self.kept_bytes = 0
        self.reused = 0  # buffers handed out again (tests, summaries)
        self.live: weakref.WeakSet = weakref.WeakSet()  # pooled stores now alive

    def wants(self, nbytes: int) -> bool:
        return MIN_BYTES <= nbytes <= self.limit

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """A kept buffer of this shape and dtype that nothing else references, or None
        (shapes of buffers: a rank's block of a store, across ranks)."""
        with self.lock:
            for i in range(len(self.kept) - 1, -1, -1):
                buf = self.kept[i]
                # References: the list, `buf` and getrefcount's argument.
                if buf.shape == shape and buf.dtype == dtype and sys.getrefcount(buf) == 3:
                    del self.kept[i]
                    self.kept_bytes -= buf.nbytes
                    self.reused += 1
                    return buf
        return None

    def track(self, store) -> None:
        with self.lock:
            self.live.add(store)

    def dying(self, shape: tuple[int, ...], dtype: np.dtype) -> list:
        """Stores of this shape and dtype held only by pending tasks' accesses."""
        with self.lock:
            candidates = [s for s in self.live
                          if s.block.extents == shape and s.dtype == dtype]
        out = []
        for s in candidates:
            held = sum(1 for entry in list(s.accesses.values()) if entry[1] is s)
            # References: `candidates`, `s`, getrefcount's argument, the accesses.
            if held and sys.getrefcount(s) == 3 + held:
                out.append(s)
        return out

    def give(self, buffer: np.ndarray) -> None:
        """Keep the buffer of a store that died."""
        with self.lock:
            self.kept.append(buffer)
            self.kept_bytes += buffer.nbytes
            while self.kept and (self.kept_bytes > self.limit or len(self.kept) > MAX_BUFFERS):
                self.kept_bytes -= self.kept.pop(0).nbytes

    def clear(self) -> None:
        with self.lock:
            self.kept.clear()
            self.kept_bytes = 0
