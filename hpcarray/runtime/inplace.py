"""A fused group whose result overwrites the array it reads, in one pass over memory.

The stencil's `work = 0.2 * (center + north + ...); center[:] = work` reads neighbours of
what it writes. Computed as NumPy says, `work` is written whole and copied back: the grid
is read once, `work` written, read and the grid written (four passes). Here the copy
joins the group and the group writes `center` directly (two passes), keeping NumPy's
rule that every read sees the old values:

- across tiles: a first operation copies, for every tile, the rows just outside it that
  its reads reach (its halo rows) into a private snapshot. The writing tasks come after
  it (a neighbour overwrites those rows only once they are copied: write after read),
  and a tile reads its neighbours' rows only from its snapshot;
- within a tile: rows go in chunks. A chunk's reads of the array come from a small,
  cache-sized scratch copy of its rows and halo taken before the chunk's results are
  written; the old rows the next chunk still needs are carried over in the scratch.

Applies where every read of the written store is a plain window of it (no steps, no
transposes, no broadcast), the group writes nothing else there, and the tiles are slabs
of whole rows of the domain (so a tile's halo is rows above and below it).
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime import kernels
from hpcarray.runtime.partition import Rect, rect_size
from hpcarray.runtime.view import View

# Bytes of a chunk's scratch: small enough to stay in cache while the chunk is computed.
CHUNK_BYTES = 2 << 20
# Halo rows (above and below together) beyond which the copy of the result is cheaper
# than the snapshots (a[:n] = a[n:] * 2 reads no neighbours: it is a copy anyway).
MAX_HALO_ROWS = 16


def plain(v: View) -> bool:
    """The view is a window of its store: axis d of the view is axis d, step 1."""
    return len(v.store.shape) == len(v.shape) and v.dims == tuple(
        (d, 1) for d in range(len(v.shape)))


def applies(target: View, leaves: list[View], tiles: list) -> bool:
    """`target` (a view the group will write) may be written in place although the
    group reads its store at other windows (see the module docstring)."""
    store = target.store
    if store.is_alias or not target.shape or not plain(target):
        return False
    for v in leaves:
        if v.store.accesses is store.accesses and (v.store is not store or not plain(v)):
            return False
    frame = Frame(target, leaves)
    return frame.up + frame.down <= MAX_HALO_ROWS and all(
        all(rect[d] == (0, n) for d, n in enumerate(target.shape) if d) for rect, _ in tiles)


class Frame:
    """Where a tile's reads of the written store fall, in store coordinates."""

    def __init__(self, target: View, leaves: list[View]):
        on_store = [v for v in leaves if v.store is target.store]
        s0 = target.start[0]
        shifts = [v.start[0] - s0 for v in on_store] or [0]
        self.row0 = s0  # store row of the domain's first row
        self.up = max(0, -min(shifts))  # halo rows above a domain row
        self.down = max(0, max(shifts))  # ... and below
        # Store extent along every other axis: the bounding box of the windows.
        self.cols = tuple(
            (min(v.start[d] for v in [target, *on_store]),
             max(v.start[d] + v.shape[d] for v in [target, *on_store]))
            for d in range(1, len(target.shape)))

    def rows(self, lo: int, hi: int) -> Rect:
        """The store rectangle of store rows [lo, hi) inside the frame."""
        return ((lo, hi),) + self.cols

    def halo_rects(self, rect: Rect) -> list[Rect]:
        """The store rows above and below domain tile `rect` that its reads reach."""
        a, b = self.row0 + rect[0][0], self.row0 + rect[0][1]
        return [r for r in (self.rows(a - self.up, a), self.rows(b, b + self.down))
                if r[0][0] < r[0][1]]

    def own_rect(self, rect: Rect) -> Rect:
        return self.rows(self.row0 + rect[0][0], self.row0 + rect[0][1])


def snapshot_kernel(buffer: np.ndarray, halos: list[Rect], into: dict):
    def kernel():
        into["halos"] = [buffer[tuple(slice(lo, hi) for lo, hi in r)].copy() for r in halos]
    return kernel


def write_kernel(plan: kernels.Plan, frame: Frame, rect: Rect, store,
                 out_nps: list[np.ndarray], leaf_nps: list[np.ndarray],
                 leaf_views: list[View], snap: dict, jit: str):
    """The task writing domain tile `rect` of `store` chunk by chunk (see the module
    docstring); out_nps and leaf_nps are the tile's parts of the outputs and leaves."""
    buffer = store.buffer
    r0, r1 = rect[0]
    up, down = frame.up, frame.down
    cols = tuple(slice(lo, hi) for lo, hi in frame.cols)
    row_bytes = buffer.itemsize * max(1, rect_size(((0, 1),) + frame.cols))
    chunk = max(1, CHUNK_BYTES // row_bytes - up - down)

    def window(v: View, i: int, n: int):
        """Leaf `v` over domain rows [i, i + n), read from the scratch (rows of the store
        from frame.row0 + i - up on)."""
        k = v.start[0] - frame.row0 + up
        return (slice(k, k + n),) + tuple(
            slice(v.start[d] - lo, v.start[d] - lo + v.shape[d])
            for d, (lo, _) in enumerate(frame.cols, start=1))

    def kernel():
        run = plan.runner(len(rect), jit, rect_size(rect))  # chosen once for all chunks
        top, bottom = _split_halos(snap.pop("halos"), up, down)
        scratch = np.empty((min(chunk, r1 - r0) + up + down,) + buffer.shape[1:], buffer.dtype)
        scratch = scratch[(slice(None),) + tuple(slice(0, hi - lo) for lo, hi in frame.cols)]
        if up:
            scratch[:up] = top
        for i in range(r0, r1, chunk):
            n = min(chunk, r1 - i)
            a = frame.row0 + i  # store row of the chunk's first row
            own = min(n + down, r1 - i)  # rows still old in the buffer
            scratch[up:up + own] = buffer[(slice(a, a + own),) + cols]
            if own < n + down:  # below the tile: the snapshot
                scratch[up + own:up + n + down] = bottom[:n + down - own]
            leaves = [scratch[window(v, i, n)] if v.store is store else leaf[i - r0:i - r0 + n]
                      for v, leaf in zip(leaf_views, leaf_nps)]
            run([o[i - r0:i - r0 + n] for o in out_nps], leaves)
            if up:  # old rows the next chunk reads above it
                scratch[:up] = scratch[n:n + up]
    return kernel


def _split_halos(halos: list[np.ndarray], up: int, down: int):
    top = halos[0] if up else None
    bottom = halos[-1] if down else None
    return top, bottom
