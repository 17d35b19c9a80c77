"""Launching point tasks: the layer below the operation templates (_api/ops.py) and fusion.

A point task runs on the rank owning its output tile, after messages bring the input
pieces that rank lacks (distribution.py); operations touching unmatched alias stores run
replicated over gathered data instead. Every function takes the runtime explicitly, so
this module (and fusion, which launches through it) never imports the runtime's core:
core builds the fuser, the fuser launches tasks, and nothing loops back.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from hpcarray.runtime.partition import ALL, Rect, full_rect, rect_size
from hpcarray.runtime.store import Borrowed, lending


def any_alias(views) -> bool:
    """Any unmatched alias store (those replicate across ranks, see store.replicates)."""
    return any(v.store.replicates for v in views)


def needs_replication(rt, views) -> bool:
    """Multi-rank: operations touching unmatched alias stores run replicated."""
    return rt.dist is not None and any_alias(views)


def launch(rt, op, kernel, tile: Rect, owner: int, out_reqs, in_reqs, after=(),
           nbytes: int = 0):
    """Submit one point task.

    In multi-rank jobs it runs on `owner` (the rank owning the output tile; ALL for
    replicated stores) after messages bring the input pieces that rank lacks; on other
    ranks nothing is submitted and None is returned. Call `note_writes` once all tasks of
    the operation are launched.
    """
    dist = rt.dist
    copies: list[Borrowed] = []
    if dist is not None:
        by_store: dict[int, Borrowed] = {}
        for store, img, box in _fetches(dist, in_reqs, owner):
            for rank in dist.executors(owner):
                copy = None
                if box is not None and rank == rt.rank:
                    copy = by_store.get(id(store))
                    if copy is None:
                        copy = by_store[id(store)] = Borrowed(store.block, box)
                        copies.append(copy)
                for piece, src in dist.missing(store, img, rank, hold=box is None):
                    rt.message(op, store, piece, src, rank, into=copy)
        if owner != ALL and owner != rt.rank:
            return None
    if copies:
        kernel = _reading_copies(kernel, copies, rt.backend.allocate)
    task = rt.task(op, kernel, tile, nbytes)
    rt.submit(task, [*out_reqs, *in_reqs], after=after, borrowed=copies)
    return task


def _reading_copies(kernel, copies: list[Borrowed], allocate):
    """The kernel, reading its far inputs from borrowed copies filled as it starts."""
    def run():
        for c in copies:
            c.fill(allocate)
        with lending(copies):
            kernel()
    return run


def _fetches(dist, in_reqs, owner: int) -> list[tuple]:
    """(store, rectangle, box) to fetch for a task on `owner`: box None, or for a store
    the task reads far from the owner's tiles (distribution.far), the box around all it
    reads of that store, which the task's borrowed copy covers (kernels may read that
    box as one array: pad's picks; only the rectangles are sent)."""
    fetched = list(_fetched_rects(in_reqs))
    far = {id(s) for s, img in fetched if owner != ALL and dist.far(s, img, owner)}
    if not far:
        return [(s, img, None) for s, img in fetched]
    boxes: dict[int, list] = {}
    for s, img in fetched:
        if id(s) in far:
            boxes.setdefault(id(s), []).append(img)
    return [(s, img, _box(boxes[id(s)]) if id(s) in far else None) for s, img in fetched]


def _box(rects) -> Rect:
    if len(rects) == 1:
        return rects[0]
    # (per axis: the least start, found by tuple order, and the greatest end)
    return tuple((min(axis)[0], max(axis, key=_end)[1]) for axis in zip(*rects))


_end = operator.itemgetter(1)


def _fetched_rects(in_reqs):
    """(store, rectangle) to fetch from other ranks: the inputs' images, or per store their
    bounding box where that is no larger than they are together (a stencil's overlapping
    views of one grid: one message per neighbour instead of one per view). A part alias's
    are its root's (Store.carrier: whole elements, as coherence counts them)."""
    if len(in_reqs) < 2:
        yield from ((store.carrier, img) for store, img, _ in in_reqs)
        return
    by_store: dict[int, tuple] = {}
    for store, img, _ in in_reqs:
        store = store.carrier
        by_store.setdefault(id(store), (store, []))[1].append(img)
    for store, imgs in by_store.values():
        if len(imgs) > 1:
            box = _box(imgs)
            if rect_size(box) <= sum(rect_size(r) for r in imgs):
                imgs = [box]
        for img in imgs:
            yield store, img


def note_writes(rt, views) -> None:
    """After launching an operation: the tiles it wrote have a new epoch."""
    dist = rt.dist
    if dist is not None:
        for v in views:
            dist.note_write(v.store, v.image(full_rect(v.shape)))


def replicated(rt, name: str, compute: Callable, out_views, in_views) -> None:
    """Run `compute()` now over whole arrays: on one rank after waiting for their pending
    work; across ranks on every rank, over gathered data (alias stores, whole-array
    operations)."""
    if rt.dist is None:
        for v in (*in_views, *out_views):
            rt.wait(v.store)
        compute()
        return
    # Stores held as blocks are held whole by every rank while it computes (and then
    # each keeps its block of what it wrote); others are gathered as they stay.
    lent = list({id(v.store.root): v.store.root for v in (*in_views, *out_views)
                 if v.store.blocked}.values())
    for v in (*in_views, *out_views):
        if not v.store.blocked:
            rt.gather(v.store)
    for v in out_views:
        rt.wait(v.store)
    with rt.lent_whole(lent, [v.store.root for v in out_views]):
        compute()
    for v in out_views:
        rt.dist.note_write(v.store, v.image(full_rect(v.shape)))
        if not v.store.blocked:
            rt.dist.note_everywhere(v.store)
