"""Who holds what, across ranks, and the messages that keep it so.

Every rank runs this same bookkeeping for every rank (control replication), so a sender
knows what a receiver lacks without asking. Per store and tile: a write epoch, bumped by
every operation that writes the tile; per rank: the rectangles of other ranks' tiles it
holds, with the epoch they were received at. A task's input rectangle then needs exactly
the pieces of other ranks' tiles that its executing rank does not hold at the current
epoch: those are the halo messages.
"""

from __future__ import annotations

import itertools

import numpy as np

from hpcarray.runtime.partition import ALL, Rect, intersect, rect_size, rect_slices
from hpcarray.runtime.store import Store

TAG_LIMIT = 1 << 20


def _contains(outer: Rect, inner: Rect) -> bool:
    return all(olo <= ilo and ihi <= ohi for (olo, ohi), (ilo, ihi) in zip(outer, inner))


class StoreState:
    """Coherence state of one store (created on first use in a multi-rank job)."""

    __slots__ = ("epochs", "held", "everywhere", "fresh")

    def __init__(self, ntiles: int, nranks: int, blocked: bool):
        self.epochs = [0] * ntiles
        # held[rank] -> (tile, rect, epoch, shape of the store rect is in) for other ranks'
        # data that rank holds
        self.held: list[list[tuple]] = [[] for _ in range(nranks)]
        # tile -> epoch at which every rank held all of it (after a gather).
        self.everywhere: dict[int, int] = {}
        # The epoch every tile is everywhere at unless `everywhere` says otherwise: 0 (never
        # written since creation: every rank made it the same way) for stores every rank
        # holds whole; none (-1) for stores held as blocks (store.py).
        self.fresh = -1 if blocked else 0


def _near_reach(tiling, rank: int) -> Rect | None:
    """The box of `rank`'s own tiles widened by a quarter of its extent (at least 2) on
    each side: reads within it grow the rank's block (distribution.far); None: no tiles."""
    mine = [t for t, o in zip(tiling.tiles, tiling.owners) if o == rank]
    if not mine:
        return None
    out = []
    for d in range(len(tiling.shape)):
        a, b = min(t[d][0] for t in mine), max(t[d][1] for t in mine)
        margin = max(2, (b - a) // 4)
        out.append((a - margin, b + margin))
    return tuple(out)


class Distribution:
    def __init__(self, rank: int, nranks: int):
        self.rank = rank
        self.nranks = nranks
        self._tags = itertools.count(1)
        self._near: dict[tuple, Rect | None] = {}  # (see far)

    def state(self, store: Store) -> StoreState:
        root = store.root
        st = root.coherence
        if st is None:
            st = root.coherence = StoreState(len(root.tiling), self.nranks, root.blocked)
        return st

    @staticmethod
    def replicated(store: Store) -> bool:
        return store.root.tiling.owners[0] == ALL

    def executors(self, owner: int) -> range | tuple[int, ...]:
        return range(self.nranks) if owner == ALL else (owner,)

    def next_tag(self) -> int:
        return next(self._tags) % TAG_LIMIT

    # -- what is missing where ----------------------------------------------------------

    def far(self, store: Store, rect: Rect, rank: int) -> bool:
        """Whether `rank` reads `rect` of a store it holds as a block as a borrowed copy
        for one task (store.Borrowed) rather than by growing its block to hold it: the
        read reaches past the rank's own tiles by more than a quarter of their extent (a
        transpose, a reversal; a stencil's halos stay near). Decided from the tiling
        alone, so every rank decides alike (the sender of the messages too)."""
        store = store.carrier
        if store.alias_of is not None or not store._blocked:
            return False
        tiling = store.tiling
        key = (tiling, rank)
        reach = self._near.get(key)
        if reach is None:
            reach = self._near[key] = _near_reach(tiling, rank)
        if reach is None:
            return True
        for (lo, hi), (a, b) in zip(rect, reach):
            if lo < a or hi > b:
                return True
        return False

    def missing(self, store: Store, rect: Rect, rank: int, hold: bool = True):
        """(piece, owner) for each piece of `rect` that `rank` lacks; unless not `hold`
        (a borrowed copy's), records that it will hold them once the messages arrive.
        `store` is a root or a matched alias (whose tile i is its root's tile i, in other
        coordinates); for a part alias, its root's pieces (Store.carrier)."""
        store = store.carrier
        root = store.root
        if store.replicates:
            raise AssertionError("unmatched alias stores are gathered, not exchanged")
        tiling = store.tiling
        owners = tiling.owners
        if owners[0] == ALL:
            return []
        st = self.state(root)
        out = []
        held = st.held[rank]
        frame = store.shape  # held pieces compare only within one store's coordinates
        for t in tiling.tiles_in(rect):
            owner = owners[t]
            if owner == rank:
                continue
            epoch = st.epochs[t]
            if st.everywhere.get(t, st.fresh) == epoch:
                continue
            piece = intersect(rect, tiling.tiles[t])
            if piece is None:
                continue
            if any(ht == t and he == epoch and hf == frame and _contains(hr, piece)
                   for ht, hr, he, hf in held):
                continue
            if hold:
                if len(held) > 64:
                    held[:] = [h for h in held if h[2] == st.epochs[h[0]]]
                held.append((t, piece, epoch, frame))
            out.append((piece, owner))
        return out

    @staticmethod
    def _tiles(store: Store, rect: Rect | None):
        """Root tile indices that `rect` of `store` touches (all of them for an unmatched
        alias, whose coordinates say nothing about root tiles)."""
        tiling = store.root.tiling
        if rect is None or store.replicates:
            return range(len(tiling))
        return store.tiling.tiles_in(rect)

    def note_write(self, store: Store, rect: Rect) -> None:
        root = store.root
        if root.tiling.owners[0] == ALL:
            return
        st = self.state(root)
        for t in self._tiles(store, rect):
            st.epochs[t] += 1

    def note_everywhere(self, store: Store, rect: Rect | None = None) -> None:
        """Every rank now holds the tiles of `rect` (whole store if None) as they are."""
        root = store.root
        if root.tiling.owners[0] == ALL:
            return
        st = self.state(root)
        for t in self._tiles(store, rect):
            st.everywhere[t] = st.epochs[t]

    # -- gathers at sync points (main thread, collective, program order) -----------------

    def tiles_to_gather(self, store: Store, rect: Rect | None) -> list[int]:
        """Tiles of `rect` (whole store if None) that some rank does not hold."""
        root = store.root
        if root.tiling.owners[0] == ALL or not root.block.writeable:
            return []  # replicated, or read-only constants (the same on every rank)
        st = self.state(root)
        return [t for t in self._tiles(store, rect)
                if st.everywhere.get(t, st.fresh) != st.epochs[t]]

    @staticmethod
    def pieces_to_gather(store: Store, rect: Rect | None, tiles: list[int]) -> dict[int, Rect]:
        """tile -> the rectangle of it to gather (in the coordinates of `frame(store)`):
        whole tiles, which every rank then holds until they are written again, or, when
        `rect` is a small part of them (a scalar read, a row printed in a loop), just that
        part, so that reading g[0, 0] does not move a whole tile."""
        tiling = Distribution.frame(store).tiling
        whole = {t: tiling.tiles[t] for t in tiles}
        if rect is None or store.replicates:
            return whole
        parts = {t: intersect(rect, tiling.tiles[t]) for t in tiles}
        if 8 * sum(rect_size(p) for p in parts.values() if p) > sum(map(rect_size,
                                                                          whole.values())):
            return whole
        return {t: p for t, p in parts.items() if p}

    @staticmethod
    def frame(store: Store) -> Store:
        """The store whose buffer and tiles a gather of `store` works in: the store itself
        (a root, or a reshape whose tiles line up with its root's) or its root (for an
        alias whose tiles do not, and for a part alias: whole elements, Store.carrier)."""
        return store.root if store.replicates else store.carrier

    def my_pieces(self, store: Store, pieces: dict[int, Rect]) -> dict[int, np.ndarray]:
        """The data of the pieces this rank owns (to send)."""
        frame = self.frame(store)
        return {t: np.ascontiguousarray(frame.buffer[rect_slices(p)])
                for t, p in pieces.items() if frame.tiling.owners[t] == self.rank}

    def install(self, store: Store, pieces: dict[int, Rect], received: list[dict]) -> None:
        """Write the pieces other ranks sent; every rank now holds all of them (and knows
        it, for whole tiles)."""
        frame = self.frame(store)
        for part in received:
            for t, data in part.items():
                if frame.tiling.owners[t] != self.rank:
                    frame.buffer[rect_slices(pieces[t])] = data
        st = self.state(store.root)
        for t, piece in pieces.items():
            if piece == frame.tiling.tiles[t]:
                st.everywhere[t] = st.epochs[t]
