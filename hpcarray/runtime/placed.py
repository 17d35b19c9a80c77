"""Placed arrays: an array's data where this rank holds only a block of its store.

Across ranks, a rank holds a block of each distributed store (store.py), so an array over
it has no NumPy view of the global shape. Its `_np` is a `Placed` array instead: the view's
mapping onto the store plus the rank's block. Indexed with a tile's global slices (what
every task kernel does) it gives the NumPy view of that tile in the block, found when the
task runs, so a block that grew after the task was issued is still right.

Anything else NumPy would do with it (a whole-array NumPy call, `.reshape`, `np.asarray`)
first makes every rank hold the whole store (`Runtime.globalize`: the store's memory is
then today's global buffer) and then acts on the global view: slower and larger, never
wrong. Such calls are collective, so they are made on the main thread only, where every
rank makes them in the same order.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np

from hpcarray.runtime.partition import Rect
from hpcarray.runtime.store import Block, borrowed, borrowing

# Set by the runtime: makes every rank hold all of a store (collective).
globalize: Callable | None = None


def window(block: Block, start, shape, dims, rect: Rect | None) -> np.ndarray:
    """View rectangle `rect` (None: all of it) of the view (start, shape, dims) of a
    store, as a strided NumPy view of the rank's block of it, which must hold it (NumPy
    would clip a slice past its end without a word), or of the running task's borrowed
    copy that does."""
    origin, view_shape = block.origin, shape
    shape = shape if rect is None else tuple(hi - lo for lo, hi in rect)
    idx: list = [s - o for s, o in zip(start, origin)]
    reach = [(i, i) for i in idx]  # first and last element reached along each store axis
    mapped = []
    for j, (d, s) in enumerate(dims):
        if d < 0:
            continue
        n = shape[j]
        first = start[d] - origin[d] + (0 if rect is None else rect[j][0] * s)
        last = first + (n - 1) * s
        reach[d] = (min(first, last), max(first, last)) if n else (0, -1)
        if n == 0:
            idx[d] = slice(0, 0)
        elif s > 0:
            idx[d] = slice(first, last + 1, s)
        else:
            idx[d] = slice(first, last - 1 if last >= 1 else None, s)
        mapped.append((d, j))
    if borrowing() and all(lo <= hi for lo, hi in reach):  # the task's copy of it, if any
        found = borrowed(block, tuple((lo + o, hi + o + 1) for (lo, hi), o in zip(reach, origin)))
        if found is not None and found is not block:
            return window(found, start, view_shape, dims, rect)
    if any(lo <= hi and (lo < 0 or hi >= n) for (lo, hi), n in zip(reach, block.buffer.shape)):
        raise RuntimeError(f"hpcarray internal error: a task reached past this rank's block "
                           f"of a store (block at {block.origin}, {block.buffer.shape}; "
                           f"local index {tuple(idx)})")
    arr = block.buffer[(*idx, ...)]  # the Ellipsis keeps a 0-d result a view
    mapped.sort()
    view_order = [j for _, j in mapped]
    if view_order != sorted(view_order):
        arr = arr.transpose([view_order.index(j) for j in sorted(view_order)])
    if len(mapped) != len(shape):
        expanded = tuple(1 if d < 0 else n for (d, _), n in zip(dims, shape))
        arr = arr.reshape(expanded)
        if expanded != shape:
            arr = np.broadcast_to(arr, shape)
    return arr


class Placed:
    __slots__ = ("block", "start", "shape", "ndim", "dims", "dtype", "_writeable", "_held")

    def __init__(self, block: Block, start, shape, dims, dtype: np.dtype,
                 writeable: bool = True):
        self.block = block
        self.start = start
        self.shape = shape
        self.ndim = len(shape)
        self.dims = dims
        self.dtype = dtype
        self._writeable = writeable and block.writeable
        self._held: tuple | None = None  # (see _held_window)

    @property
    def writeable(self) -> bool:
        return self._writeable

    @writeable.setter
    def writeable(self, value: bool) -> None:
        self._writeable, self._held = value, None

    # -- what tasks use -------------------------------------------------------------

    def __getitem__(self, key):
        """A tile (unit-step slices in global view indices, missing trailing ones meaning
        whole axes; Ellipsis: all of it) as a NumPy view of the block; other keys act on
        the global view."""
        if type(key) is tuple and not borrowing():
            tile = self._tile(key)
            if tile is not None:
                return tile
        got = _rect(key, self.shape)
        if got is None:
            return self._global()[key]
        rect, drop = got
        arr = window(self.block, self.start, self.shape, self.dims, rect)
        if drop:  # integer indices: those axes go, as NumPy's indexing drops them
            arr = arr[tuple(0 if d in drop else slice(None) for d in range(len(rect)))
                      + (...,)]
        return arr if self.writeable else _read_only(arr)

    def _tile(self, key: tuple) -> np.ndarray | None:
        """The common case fast (a task's tile: one (start, stop) slice per axis, within
        the view and what the block holds): a slice of the held window. None: the general
        path decides (and names what is wrong)."""
        buffer = self.block.buffer
        held = self._held
        if held is None or held[0] is not buffer:  # first tile, or the block grew
            held = self._held = (buffer, *self._held_window(buffer))
        _, arr, offsets = held
        if arr is None or len(key) != len(offsets):
            return None
        local = []
        for k, o, n, extent in zip(key, offsets, arr.shape, self.shape):
            if type(k) is not slice or k.step is not None or k.start is None or k.stop is None:
                return None
            lo, hi = k.start - o, k.stop - o
            if lo < 0 or hi > n or lo > hi or k.start < 0 or k.stop > extent:
                return None
            local.append(slice(lo, hi))
        return arr[tuple(local)] if local else arr[...]

    def _held_window(self, buffer: np.ndarray) -> tuple:
        """(a NumPy view holding the part of the view this rank's block holds, the view
        index of its first element per axis); (None, ()) where the block misses a store
        index the view is fixed at."""
        block, start, dims = self.block, self.start, self.dims
        if len(dims) == len(start) and all(d == j and s == 1 for j, (d, s) in enumerate(dims)):
            # A window of unit steps (slices, the whole store): the block itself, offset.
            arr, offsets = buffer, tuple(o - st for o, st in zip(block.origin, start))
        else:
            mapped = {d for d, _ in dims}
            for d, (o, n) in enumerate(zip(block.origin, buffer.shape)):
                if d not in mapped and not o <= start[d] < o + n:
                    return None, ()
            rect = []
            for (d, s), extent in zip(dims, self.shape):
                if d < 0:
                    rect.append((0, extent))
                    continue
                lo, hi = block.origin[d] - start[d], block.origin[d] + buffer.shape[d] - start[d]
                if s > 0:  # view indices i with lo <= i*s < hi
                    first, last = -(-lo // s), (hi - 1) // s
                else:
                    first, last = -(-(hi - 1) // s), lo // s
                first, last = max(first, 0), min(last, extent - 1)
                rect.append((first, max(first, last + 1)))
            arr = window(block, start, self.shape, dims, tuple(rect))
            offsets = tuple(lo for lo, _ in rect)
        return (arr if self.writeable else _read_only(arr)), offsets

    # -- what the front end reads ----------------------------------------------------

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        """As NumPy would give them for this view of a C-ordered global array (of the
        root's elements, for a part of them: `.real`)."""
        store = self.block.store().carrier
        c, acc = [], store.dtype.itemsize
        for n in reversed(store.shape):
            c.append(acc)
            acc *= n
        c.reverse()
        return tuple(s * c[d] if d >= 0 else 0 for d, s in self.dims)

    @property
    def flags(self) -> _Flags:
        return _Flags(self)

    def setflags(self, write=None, align=None, uic=None) -> None:
        if write:
            if not self.block.writeable:
                raise ValueError("cannot set WRITEABLE flag to True of this array")
            self.writeable = True
        elif write is not None:
            self.writeable = False

    # -- everything else: on the global view, after every rank holds the whole store --

    def _global(self) -> np.ndarray:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("hpcarray internal error: a task used an array's data as a "
                               "whole on a rank that holds only a block of it")
        block = self.block
        if block.lent is not None:  # a replicated operation under way: the gathered store
            block = _Whole(block.lent)
        elif block.store().blocked:
            globalize(block.store())
        arr = window(block, self.start, self.shape, self.dims, None)
        return arr if self.writeable else _read_only(arr)

    def __getattr__(self, name: str):
        return getattr(self._global(), name)

    def __array__(self, dtype=None, copy=None):
        arr = self._global()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return getattr(ufunc, method)(*_unplace_all(inputs), **_unplace_all(kwargs))

    def __array_function__(self, func, types, args, kwargs):
        return func(*_unplace_all(args), **_unplace_all(kwargs))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __setitem__(self, key, value) -> None:
        self._global()[key] = value

    def __repr__(self) -> str:
        return f"Placed(shape={self.shape}, dtype={self.dtype}, origin={self.block.origin})"


class _Whole:
    """A whole store's buffer where `window` takes a block."""

    __slots__ = ("buffer", "origin")

    def __init__(self, buffer: np.ndarray):
        self.buffer = buffer
        self.origin = (0,) * buffer.ndim


class _Flags:
    """The flags a user reads of an array held as blocks (those of the global view)."""

    def __init__(self, placed: Placed):
        object.__setattr__(self, "_p", placed)
        # (now, while the array is alive: the block knows its store only weakly)
        object.__setattr__(self, "_strides", placed.strides)

    @property
    def writeable(self) -> bool:
        return self._p.writeable

    def __setattr__(self, name: str, value) -> None:
        if name != "writeable":
            raise AttributeError(name)
        self._p.writeable = bool(value)

    @property
    def c_contiguous(self) -> bool:
        return _contiguous(self._p.shape, self._strides, self._p.itemsize, reverse=True)

    @property
    def f_contiguous(self) -> bool:
        return _contiguous(self._p.shape, self._strides, self._p.itemsize, reverse=False)

    @property
    def contiguous(self) -> bool:
        return self.c_contiguous

    owndata = False
    aligned = True
    writebackifcopy = False

    def __getitem__(self, name: str) -> bool:
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "C": "c_contiguous", "F": "f_contiguous"}.get(
                                  name, name.lower()))


def _contiguous(shape, strides, itemsize: int, reverse: bool) -> bool:
    if 0 in shape:
        return True
    expected = itemsize
    order = range(len(shape) - 1, -1, -1) if reverse else range(len(shape))
    for j in order:
        if shape[j] != 1:
            if strides[j] != expected:
                return False
            expected *= shape[j]
    return True


def _read_only(arr):
    """A read-only view of `arr` (device arrays have no such flag: `arr` itself)."""
    if getattr(arr.flags, "writeable", False):
        arr = arr.view()
        arr.flags.writeable = False
    return arr


def _rect(key, shape):
    """(rectangle, axes indexed by an integer) of a tile key: unit-step slices within
    the shape and non-negative integers; None for any other key."""
    if key is Ellipsis:
        return tuple((0, n) for n in shape), ()
    if not isinstance(key, tuple):
        key = (key,)
    if len(key) > len(shape):
        return None
    key = key + (slice(None),) * (len(shape) - len(key))
    rect, drop = [], []
    for d, (k, n) in enumerate(zip(key, shape)):
        if type(k) is int:
            if not 0 <= k < n:
                return None
            rect.append((k, k + 1))
            drop.append(d)
            continue
        if type(k) is not slice or k.step not in (None, 1):
            return None
        lo, hi = k.start or 0, n if k.stop is None else k.stop
        if not 0 <= lo <= hi <= n:
            return None
        rect.append((lo, hi))
    return tuple(rect), tuple(drop)


def _unplace_all(value):
    if isinstance(value, Placed):
        return value._global()
    if isinstance(value, (list, tuple)):
        return type(value)(_unplace_all(v) for v in value)
    if isinstance(value, dict):
        return {k: _unplace_all(v) for k, v in value.items()}
    return value
