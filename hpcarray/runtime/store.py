"""Stores: the data behind arrays.

A store has a global shape and dtype, a tiling (which rank owns which rectangle) and, on
each rank, one local *block*: a buffer covering the rank's own tiles (their bounding box)
plus the ghost margins its tasks have read so far, placed at `origin` in the store's
global index space. A margin grows the first time a task on the rank reads past it
(Runtime.cover), once: the stencil's halos are inferred, and reused every iteration. On
one rank, and for stores every rank holds whole (small ones, gathered ones), the block is
the whole store at origin 0.

Stores whose buffers are views of another store's buffer (reshape views, `.real`, `.imag`,
dtype views) are *aliases*: they share their root's dependence tracking. Across ranks, a
reshape of a store held as blocks whose tiles line up with its root's has an AliasBlock,
and `.real`, `.imag` and dtype views of the same itemsize have a PartBlock: both keep
their root's tiles and run distributed.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import weakref

import numpy as np

from hpcarray.runtime.partition import Tiling

_ids = itertools.count()
_allocating = threading.Lock()


class Block:
    """A rank's memory for one store: `buffer` holds the store's elements from `origin` on.
    Tasks reach it through this holder, not the store, so that a growing block (or a
    reused buffer) is seen by tasks issued before it grew, and so that tasks do not keep
    a dropped store alive (the buffer pool counts a dying store's references)."""

    __slots__ = ("_buffer", "extents", "dtype", "make", "origin", "store", "lent",
                 "_writeable", "__weakref__")

    def __init__(self, buffer: np.ndarray | None, origin: tuple[int, ...], store: Store | None,
                 make=None, extents: tuple[int, ...] | None = None, dtype=None):
        self._buffer = buffer
        self.dtype = buffer.dtype if buffer is not None else dtype
        # The buffer's shape; with `make` (called with it), the buffer is allocated the
        # first time it is used: a result that dies before anything writes it (the
        # stencil's `work`, computed in place) never costs a rank its memory.
        self.extents = buffer.shape if buffer is not None else extents
        self.make = make
        self._writeable: bool | None = None  # (asked of blocks held across ranks only)
        self.origin = origin
        self.store = weakref.ref(store) if store is not None else None
        # The whole store, gathered for the length of a replicated operation (tasks.py).
        self.lent: np.ndarray | None = None

    @property
    def buffer(self) -> np.ndarray:
        buffer = self._buffer
        if buffer is None:
            with _allocating:  # (two tasks may take their first tiles at once)
                if self._buffer is None:
                    self._buffer, self.make = self.make(self.extents), None
                buffer = self._buffer
        return buffer

    @buffer.setter
    def buffer(self, value: np.ndarray) -> None:
        self._buffer, self.extents, self.make = value, value.shape, None
        self._writeable = None

    @property
    def writeable(self) -> bool:
        """Whether its memory may be written (memory allocated when first used may;
        device arrays have no such flag). Found once per buffer."""
        flag = self._writeable
        if flag is None:
            buffer = self._buffer
            flag = buffer is None or getattr(buffer.flags, "writeable", True)
            if buffer is not None:
                self._writeable = flag
        return flag

    @property
    def on_host(self) -> bool:
        """Its memory is a host NumPy array (not device memory, nor yet to be made)."""
        return type(self._buffer) is np.ndarray

    def local(self, rect) -> np.ndarray:
        """The store rectangle `rect` (global coordinates) as a view of the buffer (or of
        the running task's borrowed copy of it, where the block does not hold it)."""
        if not rect:
            return self.buffer[...]
        found = borrowed(self, rect)  # (first: the block may hold a stale copy of it)
        if found is not None:
            return found.local(rect)
        if not self.holds(rect) and all(lo < hi for lo, hi in rect):
            raise RuntimeError(f"hpcarray internal error: a task reached past this rank's "
                               f"block of a store (block at {self.origin}, {self.extents}; "
                               f"rectangle {rect})")
        return _slice(self.buffer, self.origin, rect)

    def holds(self, rect) -> bool:
        return _holds(self.origin, self.extents, rect)




def _slice(buffer: np.ndarray, origin, rect) -> np.ndarray:
    return buffer[tuple(slice(lo - o, hi - o) for (lo, hi), o in zip(rect, origin))]


def _holds(origin, extents, rect) -> bool:
    for (lo, hi), o, n in zip(rect, origin, extents):  # (every task's reads: no generator)
        if lo < o or hi > o + n:
            return False
    return True


class Borrowed:
    """One task's copy of a store rectangle far from this rank's block (what a transpose
    or a reversal reads of other ranks' tiles): filled when the task runs, from the block
    where it holds parts and from that task's messages for the rest, and dropped after it.
    The block does not grow to hold such reads, so a rank keeps its share of the store
    (tasks.launch decides, distribution.far)."""

    __slots__ = ("block", "rect", "origin", "extents", "buffer", "pieces")

    def __init__(self, block: Block, rect):
        self.block = block
        self.rect = rect
        self.origin = tuple(lo for lo, _ in rect)
        self.extents = tuple(hi - lo for lo, hi in rect)
        self.buffer: np.ndarray | None = None
        self.pieces: list[tuple] = []  # (rectangle, data) received for it

    @property
    def dtype(self) -> np.dtype:
        return self.block.dtype

    def holds(self, rect) -> bool:
        return _holds(self.origin, self.extents, rect)

    def local(self, rect) -> np.ndarray:
        return _slice(self.buffer, self.origin, rect)

    def fill(self, allocate) -> None:
        """Its data: the block's part of it, then the pieces received (the block may hold
        stale copies of those)."""
        block = self.block
        buffer = allocate(self.extents, block.dtype)
        part = tuple((max(lo, o), min(hi, o + n)) for (lo, hi), o, n in
                     zip(self.rect, block.origin, block.extents))
        if all(lo < hi for lo, hi in part):
            _slice(buffer, self.origin, part)[...] = _slice(block.buffer, block.origin, part)
        for piece, data in self.pieces:
            _slice(buffer, self.origin, piece)[...] = data
        self.buffer, self.pieces = buffer, []


_running = threading.local()  # .borrowed: the copies the task running on this thread reads


@contextlib.contextmanager
def lending(copies: list[Borrowed]):
    """Tasks' reads on this thread find these copies where blocks do not hold them."""
    before = getattr(_running, "borrowed", None)
    _running.borrowed = copies
    try:
        yield
    finally:
        _running.borrowed = before
        for c in copies:
            c.buffer = None


def borrowing() -> bool:
    """The task running on this thread reads borrowed copies."""
    return bool(getattr(_running, "borrowed", None))


def borrowed(block: Block, rect) -> Borrowed | PartBlock | None:
    """The running task's copy of `block`'s store that holds `rect`, if any (what it
    reads there: the block may hold a stale copy of the same elements); of a part
    alias's block, its part of the whole store's copy."""
    whole = block.whole if type(block) is PartBlock else block
    for c in getattr(_running, "borrowed", None) or ():
        if c.block is whole and c.holds(rect):
            return c if whole is block else PartBlock(c, block.parts)
    return None


class AliasBlock(Block):
    """The block of a matched alias (a reshape whose tiles are its root's): its root's
    block seen in the alias's shape. The root's block is a slab of whole rows whose
    edges Runtime.cover keeps on the alias's rows, so the reshape is always a view."""

    __slots__ = ("root_block", "row", "alias_row", "tail")

    def __init__(self, root: Store, shape: tuple[int, ...], store: Store):
        self.root_block = root.block
        self.row = math.prod(root.shape[1:])
        self.alias_row = math.prod(shape[1:])
        self.tail = tuple(shape[1:])
        self.store = weakref.ref(store)

    @property
    def buffer(self) -> np.ndarray:
        return self.root_block.buffer.reshape(self.extents)

    @property
    def extents(self) -> tuple[int, ...]:
        return (self.root_block.extents[0] * self.row // self.alias_row, *self.tail)

    @property
    def on_host(self) -> bool:
        return self.root_block.on_host

    @property
    def writeable(self) -> bool:
        return self.root_block.writeable

    @property
    def origin(self) -> tuple[int, ...]:
        return (self.root_block.origin[0] * self.row // self.alias_row,) + (0,) * len(self.tail)

    @property
    def lent(self) -> np.ndarray | None:
        whole = self.root_block.lent
        return None if whole is None else whole.reshape((-1, *self.tail))

    def root_rows(self, rect) -> tuple[int, int]:
        """The root's rows holding the alias's rows of `rect`."""
        lo, hi = rect[0]
        return lo * self.alias_row // self.row, -(-hi * self.alias_row // self.row)


def part_of(buffer, parts: tuple):
    """`buffer` seen through `parts` in turn: "real", "imag" or a dtype of the same
    itemsize (NumPy's `.real`, `.imag`, `.view(dtype)`: views, element for element)."""
    for part in parts:
        buffer = (buffer.real if part == "real" else buffer.imag if part == "imag"
                  else buffer.view(part))
    return buffer


class PartBlock(Block):
    """The block of a part alias (`.real`, `.imag`, a view as a dtype of the same
    itemsize, of a store held as blocks): its root's block (`whole`) seen through those
    views. Element i of the alias is part of element i of the root, so it has the root's
    shape, tiles and block rectangle; data moves between ranks in whole elements of the
    root (Store.carrier), whose coherence is per root."""

    __slots__ = ("whole", "parts", "_seen")

    def __init__(self, whole: Block | Borrowed, parts: tuple):
        self.whole = whole
        self.parts = parts
        self.dtype = part_of(np.empty(0, whole.dtype), parts).dtype
        self.store = None
        self._seen: tuple = (None, None)  # (whole's buffer, its part view): one view each

    @property
    def buffer(self) -> np.ndarray:
        whole = self.whole.buffer
        seen = self._seen
        if seen[0] is not whole:  # first use, or the root's block grew
            seen = self._seen = (whole, part_of(whole, self.parts))
        return seen[1]

    @property
    def extents(self) -> tuple[int, ...]:
        return self.whole.extents

    @property
    def on_host(self) -> bool:
        return getattr(self.whole, "on_host", False)

    @property
    def origin(self) -> tuple[int, ...]:
        return self.whole.origin

    @property
    def writeable(self) -> bool:
        return self.whole.writeable

    @property
    def lent(self) -> np.ndarray | None:
        whole = self.whole.lent
        return None if whole is None else part_of(whole, self.parts)


class Store:
    __slots__ = ("id", "shape", "dtype", "block", "tiling", "alias_of", "accesses", "version",
                 "name", "coherence", "pool", "touched", "matched", "pinned", "_blocked", "align",
                 "__weakref__")

    def __init__(self, buffer: np.ndarray, tiling: Tiling, root: Store | None = None,
                 pool=None, shape: tuple[int, ...] | None = None,
                 origin: tuple[int, ...] | None = None, blocked: bool = False,
                 block: Block | None = None):
        self.id = next(_ids)
        self.shape = buffer.shape if shape is None else shape
        self.dtype = block.dtype if buffer is None else buffer.dtype
        if block is None:
            block = Block(buffer, origin or (0,) * len(self.shape), self)
        elif block.store is None:
            block.store = weakref.ref(self)
        self.block = block
        # Across ranks, each rank holds only its block of the store and what it received
        # (until Runtime.globalize); the same on every rank (control replication).
        self._blocked = blocked
        self.align = 1  # a held-as-blocks root's block edges fall on rows multiple of this
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
            buffer = self.block._buffer
            if buffer is not None:
                pool.give(buffer)

    @property
    def buffer(self) -> np.ndarray:
        """This rank's memory of the store (its block)."""
        return self.block.buffer

    @buffer.setter
    def buffer(self, value: np.ndarray) -> None:
        self.block.buffer = value


    def local(self, rect) -> np.ndarray:
        """The store rectangle `rect` (global coordinates) as a NumPy view of this rank's
        memory; the rank must hold it (its own tiles, or halos it received)."""
        return self.block.local(rect)

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Whole rows [lo, hi) of the first axis, as `local` gives them."""
        return self.block.local(((lo, hi),) + tuple((0, n) for n in self.shape[1:]))

    @property
    def blocked(self) -> bool:
        """This rank holds only a block of the store (an alias: of its root)."""
        root = self.alias_of
        return self._blocked if root is None else root._blocked

    @blocked.setter
    def blocked(self, value: bool) -> None:
        self._blocked = value

    @property
    def root(self) -> Store:
        return self.alias_of or self

    @property
    def carrier(self) -> Store:
        """The store whose elements move between ranks for this one: a part alias's root
        (it holds parts of the root's elements, and which rank holds which tile epoch is
        kept per root, so a message or gather moves the root's whole elements); else the
        store itself."""
        return self.alias_of if type(self.block) is PartBlock else self

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
