"""Reproducible float sums and products: the same bits at any number of ranks and workers.

Floating-point addition is not associative, so a sum combined from per-tile partials
changes in its last bits when the tiling changes (another number of ranks or workers).
Here partials are taken per *block* instead: each reduced dimension of extent n is cut
into blocks of `reduction_block(n)` elements, fixed by the shape alone, and tiles are cut
on block edges (partition.aligned_bounds). A tile reduces each of its blocks in a fixed
order; the combining task places every block's partial at its place in the grid of
blocks and reduces that grid. Every operation then sees the same operands in the same
order whichever tile computed them.
"""

from __future__ import annotations

import numpy as np

from hpcarray.runtime.partition import Rect, reduction_block


class BlockedReduction:
    """`uf.reduce` over `axes`, block by block (uf: add or multiply, inexact dtypes)."""

    def __init__(self, uf: np.ufunc, part_kwargs: dict, final_kwargs: dict):
        self.uf = uf
        self.part_kwargs = part_kwargs  # dtype
        self.final_kwargs = final_kwargs  # dtype, initial

    @staticmethod
    def applies(shape: tuple[int, ...], axes: tuple[int, ...], rects: list[Rect]) -> bool:
        """Every tile starts on a block edge along every reduced axis."""
        q = {a: reduction_block(shape[a]) for a in axes}
        return all(rect[a][0] % q[a] == 0 for rect in rects for a in axes)

    @staticmethod
    def grid_position(shape, axes, rect: Rect) -> tuple[int, ...]:
        """Where a tile's block partials start in the grid of blocks, per reduced axis."""
        return tuple(rect[a][0] // reduction_block(shape[a]) for a in axes)

    def partial(self, tile: np.ndarray, shape, axes, rect: Rect) -> np.ndarray:
        """The tile's block partials: reduced axes have one entry per block."""
        uf, kw = self.uf, self.part_kwargs
        res = tile
        for a in axes:
            q = reduction_block(shape[a])
            starts = range(0, rect[a][1] - rect[a][0], q)
            if a == tile.ndim - 1:  # contiguous: one call for all blocks
                res = uf.reduceat(res, list(starts), axis=a, **kw)
            else:  # each block sums whole rows in order
                res = self._reduce_blocks(res, a, q, kw)
        return res

    def _reduce_blocks(self, x: np.ndarray, a: int, q: int, kw: dict) -> np.ndarray:
        """Each block of q along axis a (not the last) reduced to one entry: the whole
        blocks in one call over a reshape (same order of operations as block by block:
        rows added in order, elementwise), the shorter last block on its own."""
        n = x.shape[a]
        whole = n - n % q
        lead = (slice(None),) * a
        parts = []
        if whole:
            blocks = x[lead + (slice(0, whole),)]
            parts.append(self.uf.reduce(blocks.reshape(
                x.shape[:a] + (whole // q, q) + x.shape[a + 1:]), axis=a + 1, **kw))
        if whole < n:
            parts.append(self.uf.reduce(x[lead + (slice(whole, n),)], axis=a,
                                        keepdims=True, **kw))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=a)

    def combine(self, parts, positions, shape, axes, out: np.ndarray) -> None:
        """Place every tile's block partials in the grid of blocks; reduce the grid."""
        grid_shape = list(out.shape)
        for a in axes:
            grid_shape[a] = -(-shape[a] // reduction_block(shape[a]))
        # (like `out`: in the backend's memory)
        grid = np.empty_like(out, parts[0].dtype, "C", shape=grid_shape)
        for part, pos in zip(parts, positions):
            index = [slice(None)] * grid.ndim
            for a, p in zip(axes, pos):
                index[a] = slice(p, p + part.shape[a])
            grid[tuple(index)] = part
        self.uf.reduce(grid, axis=axes, keepdims=True, out=out, **self.final_kwargs)
