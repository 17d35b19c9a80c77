"""Stores: the data behind arrays.

A store has a global shape and dtype, a tiling (which rank owns which rectangle) and, on
each rank, one local buffer of the global shape. Pages of that buffer that a rank never
touches are never committed by the OS, so a rank pays memory only for the tiles it owns
and the halos it receives; every view is then a plain strided view of the local buffer.

Stores whose buffers are views of another store's buffer (reshape views, `.real`, `.imag`,
dtype views) are *aliases*: they share their root's dependence tracking.
"""

from __future__ import annotations

import itertools

import numpy as np

from hpcarray.runtime.partition import Tiling

_ids = itertools.count()


class Store:
    __slots__ = ("id", "shape", "dtype", "buffer", "tiling", "alias_of", "accesses", "version",
                 "name", "coherence", "pool", "touched", "matched", "pinned",
                 "__weakref__")

    def __init__(self, buffer: np.ndarray, tiling: Tiling, root: Store | None = None,
                 pool=None):
        self.id = next(_ids)
        self.buffer = buffer
        self.shape = buffer.shape
        self.dtype = buffer.dtype
        self.tiling = tiling
        # The store owning the memory (None for a store that owns its own: no cycle, so
        # refcounting frees temporaries at once).
        self.alias_of = None if root is None else root.root
        # Pending accesses (key -> (task, store, rect, writes)), shared by all aliases.
        self.accesses: dict[int, object] = {} if root is None else root.accesses
        self.version = 0
        self.name: str | None = None
        self.coherence = None  # distribution.StoreState, in multi-rank jobs
        self.pool = pool  # pool.BufferPool that gets the buffer back when the store dies
        self.touched = True  # the buffer's pages are in memory (so worth reusing)
        # An alias whose tile i holds exactly the elements of its root's tile i (a reshape
        # whose tiles line up, reshape_tiling.py): it exchanges halos like a root does.
        self.matched = False
        self.pinned = False  # a root with matched aliases: its tiling must not move

    def __del__(self) -> None:
        # (getattr: a signal handler's exception can interrupt __init__ before the slot is set)
        pool = getattr(self, "pool", None)
        if pool is not None and self.touched:
            pool.give(self.buffer)

    def local(self, rect) -> np.ndarray:
        """The store rectangle `rect` (global coordinates) as a NumPy view of this rank's
        memory; the rank must hold it (its own tiles, or halos it received)."""
        return self.buffer[tuple(slice(lo, hi) for lo, hi in rect) or ...]

    @property
    def root(self) -> Store:
        return self.alias_of or self

    @property
    def is_alias(self) -> bool:
        return self.alias_of is not None

    @property
    def replicates(self) -> bool:
        """Across ranks, operations on this store run replicated on gathered data: an
        alias whose tiles do not line up with its root's."""
        return self.alias_of is not None and not self.matched

    def __repr__(self) -> str:
        return f"Store(id={self.id}, shape={self.shape}, dtype={self.dtype})"
