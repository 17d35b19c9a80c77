"""Pieces: arrays joined along one axis, as an operand that fused kernels read in place.

NumPy's `np.concatenate([a[:, 1:], a[:, :1]], axis=1)` (a periodic neighbour, also what
`np.roll` is) copies every element. Fused, the join is a copy node whose operand is a
`Pieces`: each task cuts its tile where the pieces meet and runs the group's kernel on
every part, each part reading its piece where it lies. A joined result nobody keeps (the
neighbour inside an expression) is then never written at all.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from hpcarray.runtime.partition import Rect, tile_index
from hpcarray.runtime.view import View


@dataclass(frozen=True, eq=False)
class Part:
    lo: int  # where the piece starts along the axis, in the joined index space
    hi: int
    # The piece: the joined shape but for the axis (hi - lo there). Its NumPy view is
    # taken by the tasks, not held: a held view of a fresh result's buffer would keep the
    # runtime from giving that result a reused buffer at launch (Runtime.reuse_buffer).
    view: View

    def local(self, rect: Rect, axis: int) -> Rect | None:
        """`rect` (joined coordinates) within this piece, in the piece's coordinates."""
        lo, hi = rect[axis]
        a, b = max(lo, self.lo), min(hi, self.hi)
        if a >= b:
            return None
        return rect[:axis] + ((a - self.lo, b - self.lo),) + rect[axis + 1:]


@dataclass(frozen=True, eq=False)
class Pieces:
    """Non-empty pieces of one dtype joined along `axis`, in order."""

    axis: int
    parts: tuple[Part, ...]
    dtype: np.dtype

    @property
    def views(self) -> list[View]:
        return [p.view for p in self.parts]

    @property
    def stores(self) -> list:
        return [p.view.store for p in self.parts]

    def cuts(self) -> list[int]:
        """Where one piece ends and the next starts."""
        return [p.lo for p in self.parts[1:]]

    def requests(self, rect: Rect) -> list[tuple]:
        """(store, store rectangle) of every piece that joined rectangle `rect` reads."""
        out = []
        for p in self.parts:
            local = p.local(rect, self.axis)
            if local is not None:
                out.append((p.view.store, p.view.image(local)))
        return out

    def window(self, rect: Rect) -> np.ndarray:
        """The NumPy view of joined rectangle `rect`, which lies within one piece."""
        for p in self.parts:
            local = p.local(rect, self.axis)
            if local is not None:
                return p.view.to_numpy()[tile_index(local)]
        raise ValueError(f"{rect} lies in no piece")


def split(rect: Rect, operands: list[Pieces]) -> list[Rect]:
    """`rect` cut wherever one of the operands' pieces meet, so that every part lies
    within one piece of each."""
    edges: dict[int, set[int]] = {}
    for x in operands:
        lo, hi = rect[x.axis]
        edges.setdefault(x.axis, set()).update(c for c in x.cuts() if lo < c < hi)
    ranges = []
    for d, (lo, hi) in enumerate(rect):
        cuts = sorted(edges.get(d, ()))
        bounds = [lo, *cuts, hi]
        ranges.append(list(zip(bounds[:-1], bounds[1:])))
    return list(itertools.product(*ranges))


def join(axis: int, views: list[View]) -> Pieces | None:
    """The arrays of `views` joined along `axis` as one operand, or None where they
    cannot be (dtypes differ, or no piece is non-empty)."""
    dtype = views[0].store.dtype
    if any(v.store.dtype != dtype for v in views):
        return None
    parts, start = [], 0
    for v in views:
        n = v.shape[axis]
        if n:
            parts.append(Part(start, start + n, v))
        start += n
    return Pieces(axis, tuple(parts), dtype) if parts else None
