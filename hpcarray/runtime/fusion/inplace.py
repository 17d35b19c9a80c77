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

Applies to every store the group writes this way (Gray-Scott writes both of its grids)
where every read of it is a plain window (no steps, no transposes, no broadcast), the
group writes nothing else there, and the tiles are slabs of whole rows of the domain (so
a tile's halo is rows above and below it).
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.backend.cpu import kernels
from hpcarray.runtime.partition import Rect, rect_size, tile_index
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
        self.store = target.store
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


def snapshot_kernel(frames: list[Frame], rect: Rect, into: dict):
    """The task copying domain tile `rect`'s halo rows of every written store."""
    def kernel():
        for f in frames:
            into[f.store.id] = [f.store.local(r).copy() for r in f.halo_rects(rect)]
    return kernel


class _Scratch:
    """A chunk's rows of one written store, with its halo, as they were before the group
    wrote anything: rows k of the scratch are store rows frame.row0 + i - up + k for the
    chunk starting at domain row i."""

    def __init__(self, frame: Frame, rect: Rect, chunk: int, halos: list[np.ndarray]):
        self.frame = frame
        up, down = frame.up, frame.down
        self.r1 = rect[0][1]
        self.top = halos[0] if up else None
        self.bottom = halos[-1] if down else None
        # The store's rows as the rank's block holds them (it does not move while the
        # task runs: a block grows only after the tasks issued on it are done).
        block = frame.store.block
        self.source = block.buffer
        # (like the store's buffer: in the backend's memory)
        self.rows = np.empty_like(self.source, shape=(min(chunk, self.r1 - rect[0][0]) + up
                                                      + down,) + tuple(hi - lo for lo, hi in
                                                                       frame.cols), order="C")
        if up:
            self.rows[:up] = self.top
        self.first = frame.row0 - block.origin[0]
        self.cols = tuple(slice(lo - o, hi - o) for (lo, hi), o in zip(frame.cols,
                                                                         block.origin[1:]))

    def fill(self, i: int, n: int) -> None:
        """Rows for domain rows [i, i + n): the tile's own rows (not yet written) from
        the store, those below the tile from the snapshot; those above are in place."""
        f, rows = self.frame, self.rows
        up, down = f.up, f.down
        own = min(n + down, self.r1 - i)
        rows[up:up + own] = self.source[(slice(self.first + i, self.first + i + own),)
                                        + self.cols]
        if own < n + down:
            rows[up + own:up + n + down] = self.bottom[:n + down - own]

    def window(self, v: View, n: int) -> np.ndarray:
        """Leaf `v` (a window of the store) over the chunk's n rows."""
        f = self.frame
        k = v.start[0] - f.row0 + f.up
        return self.rows[(slice(k, k + n),) + tuple(
            slice(v.start[d] - lo, v.start[d] - lo + v.shape[d])
            for d, (lo, _) in enumerate(f.cols, start=1))]

    def carry(self, n: int) -> None:
        """Keep the old rows the next chunk reads above it."""
        up = self.frame.up
        if up:
            self.rows[:up] = self.rows[n:n + up]


def write_kernel(plan: kernels.Plan, frames: list[Frame], rect: Rect,
                 out_nps: list[np.ndarray], leaf_nps: list[np.ndarray],
                 leaf_views: list[View], snap: dict, jit: str):
    """The task writing domain tile `rect` chunk by chunk (see the module docstring) of
    the outputs and leaves (whole arrays: the tile is taken when the task runs)."""
    r0, r1 = rect[0]
    row_bytes = sum(f.store.dtype.itemsize * max(1, rect_size(((0, 1),) + f.cols))
                    for f in frames)
    chunk = max(1, CHUNK_BYTES // row_bytes - max(f.up + f.down for f in frames))
    sl = tile_index(rect)

    def kernel():
        outs, tile_leaves = [o[sl] for o in out_nps], [a[sl] for a in leaf_nps]
        scratch = {f.store.id: _Scratch(f, rect, chunk, snap.pop(f.store.id))
                   for f in frames}
        # The loop is chosen and its arguments set up once for the tile (a chunk then
        # costs one call): the windows of the scratch are the same for every chunk.
        first = min(chunk, r1 - r0)
        leaves = [scratch[v.store.id].window(v, first) if v.store.id in scratch else leaf
                  for v, leaf in zip(leaf_views, tile_leaves)]
        in_scratch = tuple(j for j, v in enumerate(leaf_views) if v.store.id in scratch)
        run = plan.rows_runner(outs, leaves, jit, still_leaves=in_scratch)
        for i in range(r0, r1, chunk):
            n = min(chunk, r1 - i)
            for sc in scratch.values():
                sc.fill(i, n)
            run(i - r0, i - r0 + n)
            for sc in scratch.values():
                sc.carry(n)
    return kernel
