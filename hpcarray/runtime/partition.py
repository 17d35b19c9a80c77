"""Tiling heuristics and rectangle arithmetic.

A rectangle (`Rect`) is a tuple of half-open (lo, hi) intervals, one per dimension, in the
index space of a store or of a view. A `Tiling` splits a store's shape into a grid of
rectangles and says which rank owns each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

Rect = tuple[tuple[int, int], ...]

# Owner of a tile that every rank holds and computes (stores too small to split).
ALL = -1


def full_rect(shape: Sequence[int]) -> Rect:
    return tuple((0, n) for n in shape)


def rect_size(rect: Rect) -> int:
    size = 1
    for lo, hi in rect:
        size *= hi - lo
    return size


def overlaps(a: Rect, b: Rect) -> bool:
    for (alo, ahi), (blo, bhi) in zip(a, b):
        if alo >= bhi or blo >= ahi:
            return False
    return True


def intersect(a: Rect, b: Rect) -> Rect | None:
    out = []
    for (alo, ahi), (blo, bhi) in zip(a, b):
        lo, hi = max(alo, blo), min(ahi, bhi)
        if lo >= hi:
            return None
        out.append((lo, hi))
    return tuple(out)


def rect_slices(rect: Rect) -> tuple[slice, ...]:
    return tuple(slice(lo, hi) for lo, hi in rect)


def tile_index(rect: Rect):
    """Index of a tile in an array: a view, also for 0-d (where `a[()]` would copy)."""
    return tuple(slice(lo, hi) for lo, hi in rect) if rect else ...


def _prime_factors(n: int) -> list[int]:
    factors, f = [], 2
    while f * f <= n:
        while n % f == 0:
            factors.append(f)
            n //= f
        f += 1
    if n > 1:
        factors.append(n)
    return sorted(factors, reverse=True)


def split_counts(shape: Sequence[int], pieces: int) -> tuple[int, ...]:
    """Pieces per dimension. Each factor of `pieces` goes to the first dimension whose
    extent per piece is at least half the largest one: tiles stay within a small factor of
    square (halos stay small), yet leading axes are preferred. That keeps tiles contiguous
    runs of rows where it costs little, and cuts arrays that differ by a halo (a grid and
    its interior, 1000 and 998 rows) the same way, so operations mixing them exchange
    halos rather than whole tiles."""
    counts = [1] * len(shape)
    for f in _prime_factors(pieces):
        extents = [n / c if n >= c * f else 0.0 for n, c in zip(shape, counts)]
        top = max(extents, default=0.0)
        if top == 0.0:
            break
        best = next(d for d, e in enumerate(extents) if e > 0.0 and 2 * e >= top)
        counts[best] *= f
    return tuple(counts)


def test_split_counts(shape: Sequence[int], tiles: int) -> tuple[int, ...]:
    """Test mode: tiny, uneven tiles along the two largest dimensions."""
    counts = [1] * len(shape)
    order = sorted(range(len(shape)), key=lambda d: -shape[d])
    for rank, d in enumerate(order[:2]):
        counts[d] = max(1, min(shape[d], tiles if rank == 0 else 2))
    return tuple(counts)


def bounds(n: int, pieces: int) -> tuple[int, ...]:
    """Boundaries of `pieces` near-equal intervals of range(n) (the first ones larger)."""
    q, r = divmod(n, pieces)
    out, pos = [0], 0
    for i in range(pieces):
        pos += q + (1 if i < r else 0)
        out.append(pos)
    return tuple(out)


def reduction_block(n: int) -> int:
    """Length of the blocks a dimension of extent n is cut into for reductions: a power
    of two, at most 64 and at most n / 64.

    Partial sums are taken per block, blocks depend on the shape alone and tile edges fall
    on block edges (`aligned_bounds`), so a float sum comes out bit for bit the same for
    any number of ranks and workers (blocked_reduction.py).
    """
    q = 1
    while q * 2 <= min(64, n // 64):
        q *= 2
    return q


def aligned_bounds(n: int, pieces: int) -> tuple[int, ...]:
    """Near-equal pieces with every inner edge rounded down to a block edge. Arrays whose
    extents differ by a halo (a grid and its interior) get the same edges, so a stencil's
    tiles still line up. Plain `bounds` where pieces are too small for that."""
    q = reduction_block(n)
    edges = (0, *((i * n // pieces) // q * q for i in range(1, pieces)), n)
    if any(a >= b for a, b in zip(edges, edges[1:])):
        return bounds(n, pieces)
    return edges


class Tiling:
    """A grid of tiles over a shape, with each tile's owning rank."""

    __slots__ = ("shape", "counts", "edges", "tiles", "owners", "strides")

    def __init__(self, shape: tuple[int, ...], counts: tuple[int, ...], nranks: int = 1,
                 aligned: bool = False, edges: tuple[tuple[int, ...], ...] | None = None):
        self.shape = shape
        self.counts = counts
        cut = aligned_bounds if aligned else bounds
        self.edges = edges or tuple(cut(n, c) for n, c in zip(shape, counts))
        self.tiles = _grid(self.edges)
        # Flat tile index = sum(grid index along d * strides[d]) (C order over the grid).
        strides, acc = [], 1
        for c in reversed(counts):
            strides.append(acc)
            acc *= c
        self.strides = tuple(reversed(strides))
        ntiles = len(self.tiles)
        # Contiguous runs of tiles per rank keep neighbours (and halos) on one rank; a store
        # of one tile is replicated on every rank of a multi-rank job.
        if ntiles == 1 and nranks > 1:
            self.owners: tuple[int, ...] = (ALL,)
        else:
            self.owners = tuple(i * nranks // ntiles for i in range(ntiles))

    @classmethod
    def slabs(cls, shape: tuple[int, ...], row_edges: tuple[int, ...], nranks: int) -> Tiling:
        """Tiles that cut only the first axis, at `row_edges`."""
        counts = (len(row_edges) - 1,) + (1,) * (len(shape) - 1)
        edges = (tuple(row_edges),) + tuple((0, n) for n in shape[1:])
        return cls(shape, counts, nranks, edges=edges)

    @classmethod
    def from_tiles(cls, shape: tuple[int, ...], tiles: list, nranks: int) -> Tiling | None:
        """The tiling whose tiles are `tiles` [(rect, owner)] in C order over a grid (a
        view's launch tiles), owners included; None if they are not such a grid."""
        edges = tuple(tuple(sorted({r[d][0] for r, _ in tiles} | {r[d][1] for r, _ in tiles}))
                      for d in range(len(shape)))
        tiling = cls(shape, tuple(len(e) - 1 for e in edges), nranks, edges=edges)
        if list(tiling.tiles) != [r for r, _ in tiles]:
            return None
        tiling.owners = tuple(owner for _, owner in tiles)
        return tiling

    def same_as(self, other: Tiling) -> bool:
        """The same tiles with the same owners."""
        return self.edges == other.edges and self.owners == other.owners

    @property
    def is_slabs(self) -> bool:
        return all(c == 1 for c in self.counts[1:])

    def __len__(self) -> int:
        return len(self.tiles)

    def tiles_in(self, rect: Rect) -> list[int]:
        """Flat indices of the tiles that intersect `rect`."""
        from bisect import bisect_right

        flat = [0]
        for (lo, hi), edges, stride in zip(rect, self.edges, self.strides):
            if lo >= hi:
                return []
            first = bisect_right(edges, lo) - 1
            last = bisect_right(edges, hi - 1) - 1
            flat = [f + t * stride for f in flat for t in range(first, last + 1)]
        return flat

    def __repr__(self) -> str:
        return f"Tiling(shape={self.shape}, counts={self.counts})"


def _grid(edges: tuple[tuple[int, ...], ...]) -> tuple[Rect, ...]:
    rects: list[Rect] = [()]
    for e in edges:
        rects = [r + ((e[i], e[i + 1]),) for r in rects for i in range(len(e) - 1)]
    return tuple(rects)


@lru_cache(maxsize=4096)
def choose_tiling(
    shape: tuple[int, ...],
    processors: int,
    nranks: int,
    min_split: int,
    test_tiles: int,
) -> Tiling:
    """The tiling every rank chooses, deterministically, for a store of this shape."""
    return _split_tiling(shape, shape, processors, nranks, min_split, test_tiles)


@lru_cache(maxsize=1024)
def tiling_along(
    shape: tuple[int, ...],
    axes: tuple[int, ...],
    processors: int,
    nranks: int,
    min_split: int,
    test_tiles: int,
) -> Tiling:
    """A tiling that keeps every lane along `axes` whole in one tile, split like
    `choose_tiling` across the other axes: sorts along an axis the usual tiling splits;
    along all axes but the first, each rank owns a run of whole rows (compactions)."""
    lanes = tuple(1 if d in axes else n for d, n in enumerate(shape))
    return _split_tiling(shape, lanes, processors, nranks, min_split, test_tiles)


def _split_tiling(shape, split_shape, processors, nranks, min_split, test_tiles) -> Tiling:
    """Tiles over `shape`, cut as `split_shape` would be (extent 1: never cut there)."""
    size = 1
    for n in shape:
        size *= n
    if test_tiles and size >= 2:  # tiny uneven tiles, the same at any number of ranks
        return Tiling(shape, test_split_counts(split_shape, test_tiles), nranks)
    if size >= min_split and processors > 1:
        return Tiling(shape, split_counts(split_shape, processors), nranks, aligned=True)
    return Tiling(shape, (1,) * len(shape), nranks)
