"""Operation templates: how an API call becomes point tasks (the front end's side of
the runtime: these take hpcarray arrays; the runtime below takes stores and views).

Three shapes of operation cover the library:
- `elementwise`: outputs and broadcast inputs share one index space; one task per output
  tile, run by the rank owning that tile, each reading the image of its tile in every
  input (which may reach into other ranks' tiles: halo messages);
- `reduction`: one partial per input tile, then one combining task per output tile;
- `scan`: one task per output tile, in tile order along the scanned axis, each starting
  from the last slice of the tile before it (cumulative sums: no gather, exact);
- `pick_along_axes`: one task per output tile picking elements axis by axis (pad, repeat),
  reading the box of the input its picks span;
- `whole`: one task over whole arrays (sorts, gathers: correct first, tiled later).

Arguments are hpcarray arrays (anything with `_v`, a View, and `_np`, its NumPy view) or
plain scalars. Kernels are plain NumPy calls on tile views of the local buffers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hpcarray.runtime.core import get_runtime
from hpcarray.runtime.partition import ALL, Rect, full_rect, rect_size, reduction_block, tile_index
from hpcarray.runtime.placed import Placed
from hpcarray.runtime.tasks import any_alias, note_writes, replicated
from hpcarray.runtime.tasks import launch as launch_task


def _is_array(x) -> bool:
    return hasattr(x, "_v")


def _tile_kernel(fn, out_nps, in_nps, tiled, sl):
    """`tiled[i]`: whether in_nps[i] is array data (a view in the backend's memory, or a
    Placed array), sliced to the tile; else a scalar, passed as it is."""
    def kernel():
        fn([o[sl] for o in out_nps], [x[sl] if t else x for x, t in zip(in_nps, tiled)])
    return kernel


def elementwise(name: str, fn: Callable, outs: Sequence, ins: Sequence,
                copy_aliased: Callable | None = None, fused=None) -> None:
    """Run `fn(out_tiles, in_tiles)` over the outputs' tiles.

    `ins` are arrays (broadcast to the outputs' shape here) or scalars passed through.
    An input that aliases an output at a different mapping is first copied with
    `copy_aliased` (NumPy semantics: inputs are read as they were before the call).
    `fused` (a fusion.Func computing the one output) lets the operation join the pending
    fused group instead of running on its own.
    """
    rt = get_runtime()
    shape = outs[0]._v.shape
    size = 1
    for n in shape:
        size *= n
    if size == 0:
        return
    if (fused is not None and rt.fusion is not None and not rt.is_small(size)
            and rt.fusion.record(fused, outs[0], ins)):
        return
    roots = {id(o._v.store.accesses) for o in outs}
    views, nps = [], []
    for x in ins:
        if not _is_array(x):
            views.append(None)
            nps.append(x)
            continue
        v = x._v if x._v.shape == shape else x._v.broadcast_to(shape)
        if id(v.store.accesses) in roots and not any(o._v.same_mapping(v) for o in outs):
            x = copy_aliased(x)
            v = x._v if x._v.shape == shape else x._v.broadcast_to(shape)
        views.append(v)
        nps.append(x._np if x._np.shape == shape else v.to_numpy())
    out_nps = [o._np for o in outs]
    if rt.idle and rt.is_small(size):
        fn(out_nps, nps)
        return
    in_views = [v for v in views if v is not None]
    out_views = [o._v for o in outs]
    dist = rt.dist
    if dist is not None and any_alias(in_views + out_views):
        return replicated(rt, name, lambda: fn(out_nps, nps), out_views, in_views)
    op = rt.operation(name, [v.store for v in in_views], [v.store for v in out_views])
    itemsize = sum(o._np.itemsize for o in outs)
    tiled = [v is not None for v in views]
    for rect, owner in out_views[0].launch_tiles():
        in_reqs = [(v.store, v.image(rect), False) for v in in_views]
        out_reqs = [(v.store, v.image(rect), True) for v in out_views]
        launch_task(rt, op, _tile_kernel(fn, out_nps, nps, tiled, tile_index(rect)), rect,
                    owner, out_reqs, in_reqs, nbytes=rect_size(rect) * itemsize)
    note_writes(rt, out_views)


def scan(name: str, fn: Callable, out, x, axis: int) -> None:
    """Run `fn(out_tile, x_tile, before)` over out's tiles in order along `axis`.

    `before` is the slice of `out` just before the tile along the axis (extent 1 there),
    or None for tiles at the start. The tiles at one position along the axis are one
    operation, so the next position reads their results like a halo: a rank receives
    only that slice. Sequential along the axis, parallel across it, and exactly NumPy's
    order of operations. `out` is fresh or does not alias `x` (else use `whole`).
    """
    rt = get_runtime()
    ov, xv = out._v, x._v
    out_np, x_np = out._np, x._np
    if out_np.size == 0:
        return
    if rt.idle and rt.is_small(out_np.size):
        fn(out_np, x_np, None)
        return
    if rt.dist is not None and any_alias([ov, xv]):
        return replicated(rt, name, lambda: fn(out_np, x_np, None), [ov], [xv])
    steps: dict[int, list[tuple[Rect, int]]] = {}
    for rect, owner in ov.launch_tiles():
        steps.setdefault(rect[axis][0], []).append((rect, owner))
    itemsize = out_np.itemsize
    for lo in sorted(steps):
        op = rt.operation(name, [xv.store, ov.store], [ov.store])
        written = []
        for rect, owner in steps[lo]:
            in_reqs = [(xv.store, xv.image(rect), False)]
            before = None
            if lo > 0:
                before = tile_index(rect[:axis] + ((lo - 1, lo),) + rect[axis + 1:])
                in_reqs.append((ov.store, ov.image(
                    rect[:axis] + ((lo - 1, lo),) + rect[axis + 1:]), False))
            out_img = ov.image(rect)
            launch_task(rt, op, _scan_kernel(fn, out_np, x_np, tile_index(rect), before), rect,
                   owner, [(ov.store, out_img, True)], in_reqs,
                   nbytes=rect_size(rect) * itemsize)
            written.append(out_img)
        if rt.dist is not None:
            for img in written:
                rt.dist.note_write(ov.store, img)


def pick_along_axes(name: str, out, x, maps: Sequence[np.ndarray]) -> None:
    """out[i0, i1, ...] = x[maps[0][i0], maps[1][i1], ...] (pad, repeat: every axis picked
    on its own). One task per output tile, reading the box of x that its indices span:
    across ranks that box arrives like a halo."""
    rt = get_runtime()
    ov, xv = out._v, x._v
    out_np, x_np = out._np, x._np
    if out_np.size == 0:
        return
    if rt.dist is not None and any_alias([ov, xv]):
        index = _pick_index(maps)
        return replicated(rt, name, lambda: _pick(out_np, x_np, index), [ov], [xv])
    op = rt.operation(name, [xv.store], [ov.store])
    for rect, owner in ov.launch_tiles():
        picks = [m[lo:hi] for m, (lo, hi) in zip(maps, rect)]
        boxes: list[Rect] = [()]
        for p in picks:
            boxes = [b + (span,) for b in boxes for span in _spans(p)]
        launch_task(rt, op, _pick_kernel(out_np, x_np, tile_index(rect), picks), rect,
               owner, [(ov.store, ov.image(rect), True)],
               [(xv.store, xv.image(b), False) for b in boxes],
               nbytes=rect_size(rect) * out_np.itemsize)
    note_writes(rt, [ov])


def _spans(p: np.ndarray) -> list[tuple[int, int]]:
    """Intervals covering the indices p: one per monotone run of p (a wrapped or reflected
    pad has a few), overlapping ones merged, so a tile reads no more than it picks from."""
    steps = np.sign(np.diff(p))
    moving = np.flatnonzero(steps)
    turns = moving[1:][steps[moving[1:]] != steps[moving[:-1]]] + 1
    spans = sorted((int(r.min()), int(r.max()) + 1) for r in np.split(p, turns))
    merged = [spans[0]]
    for lo, hi in spans[1:]:
        if lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _pick_index(picks: Sequence[np.ndarray]) -> list:
    """Per axis, a slice where the picks are a run of consecutive indices (a plain copy),
    else the index array."""
    index: list = []
    for p in picks:
        run = p.size and p[-1] - p[0] == p.size - 1 and bool(np.all(np.diff(p) == 1))
        index.append(slice(int(p[0]), int(p[0]) + p.size) if run else p)
    return index


def _pick(out_np, x_np, index: list) -> None:
    box = x_np[tuple(i if isinstance(i, slice) else slice(None) for i in index)]
    taken = [d for d, i in enumerate(index) if not isinstance(i, slice)]
    if not taken:
        np.copyto(out_np, box)
    for k, d in enumerate(taken):  # one axis at a time, the last one straight into out
        box = np.take(box, index[d], axis=d, mode="clip",
                      out=out_np if k == len(taken) - 1 else None)


def _pick_kernel(out_np, x_np, sl, picks):
    """The task picking one output tile from the box of x its picks span (all a rank
    may hold of x), with the picks made relative to that box."""
    box = tuple(slice(int(p.min()), int(p.max()) + 1) if p.size else slice(0, 0)
                for p in picks)
    from_host = get_runtime().backend.from_host  # index arrays where the tiles are
    index = [i if isinstance(i, slice) else from_host(i)
             for i in _pick_index([p - b.start for p, b in zip(picks, box)])]

    def kernel():
        _pick(out_np[sl], x_np[box], index)
    return kernel


def _scan_kernel(fn, out_np, x_np, sl, before_sl):
    def kernel():
        fn(out_np[sl], x_np[sl], None if before_sl is None else out_np[before_sl])
    return kernel


def whole(name: str, fn: Callable, outs: Sequence, ins: Sequence) -> None:
    """Run `fn(out_nps, in_nps)` as one task over whole arrays."""
    rt = get_runtime()
    in_nps = [x._np if _is_array(x) else x for x in ins]
    out_nps = [o._np for o in outs]
    if rt.idle:
        fn(out_nps, in_nps)
        return
    arrays_in = [x for x in ins if _is_array(x)]
    if rt.dist is not None:
        return replicated(rt, name, lambda: fn(out_nps, in_nps), [o._v for o in outs],
                           [x._v for x in arrays_in])
    op = rt.operation(name, [x._v.store for x in arrays_in], [o._v.store for o in outs])
    reqs = [(o._v.store, o._v.image(full_rect(o._v.shape)), True) for o in outs
            if o._np.size]
    reqs += [(x._v.store, x._v.image(full_rect(x._v.shape)), False) for x in arrays_in
             if x._np.size]

    def kernel():
        fn(out_nps, in_nps)

    rt.submit(rt.task(op, kernel, full_rect(outs[0]._v.shape) if outs else ()), reqs)


def update_in_place(a, fn: Callable) -> None:
    """Run `fn(numpy_view)` on the array's data now, on every rank (advanced-index
    assignment, sort, put): waits for pending work on it first."""
    # (a store held as blocks is held whole by then: `fn` gets a plain NumPy view)
    replicated(get_runtime(), "update",
               lambda: fn(a._np._global() if type(a._np) is Placed else a._np), [a._v], [])


def reduction(name: str, x, ins: Sequence, axes: tuple[int, ...], out,
              partial: Callable, combine: Callable, blocked=None,
              temporary: bool = False, join: Callable | None = None) -> None:
    """Reduce `x` over `axes` into `out` (shaped like x with the axes kept at extent 1).

    `partial(x_tile, *in_tiles)` returns a partial result shaped like the tile with the
    reduced axes at extent 1 (or a tuple of such arrays); `combine(partials, out_tile)`
    combines the partials of one output tile in tile order and writes it.
    `ins` are further arrays broadcast to x's shape (e.g. `where=`).
    `blocked` (a BlockedReduction) replaces partial and combine where the tiles allow, so
    that float sums do not depend on the tiling (blocked_reduction.py).
    `temporary`: nothing can read x after this (reductions.only_here).
    `join(partials of a tile's chunks of rows, in order)` gives the tile's partial, for a
    reduction whose result does not depend on how elements are grouped (int sums, max).
    A fused group computing x then reduces it as it computes it (fusion.Sink), with
    `blocked` or `join`.
    """
    rt = get_runtime()
    shape = x._v.shape
    in_views = [v._v if v._v.shape == shape else v._v.broadcast_to(shape) for v in ins]
    in_nps = [v._np if v._np.shape == shape else view.to_numpy()
              for v, view in zip(ins, in_views)]
    x_np, out_np = x._np, out._np
    size = x_np.size
    tiles = x._v.launch_tiles() if size else [(full_rect(shape), ALL)]
    all_views = [x._v, *in_views, out._v]
    if blocked is not None and (rt.is_small(size) or not blocked.applies(
            shape, axes, [rect for rect, _ in tiles])):
        blocked = None
    # Across ranks, a view inside one rank's tile (a[40:140].max(0)) reduces where it is.
    if rt.dist is not None and (tiles[0][1] == ALL or any_alias(all_views)):
        return replicated(rt, name, lambda: combine([partial(x_np, *in_nps)], out_np),
                           [out._v], [x._v, *in_views])
    if (rt.idle and rt.is_small(size)) or (len(tiles) == 1 and blocked is None
                                           and rt.dist is None):
        def whole_kernel():
            combine([partial(x_np, *in_nps)], out_np)
        if rt.idle:
            whole_kernel()
            return
        op = rt.operation(name, [x._v.store] + [v.store for v in in_views], [out._v.store])
        reqs = [(out._v.store, out._v.image(full_rect(out._v.shape)), True)]
        if size:
            reqs.append((x._v.store, x._v.image(full_rect(shape)), False))
            reqs += [(v.store, v.image(full_rect(shape)), False) for v in in_views]
        rt.submit(rt.task(op, whole_kernel, full_rect(shape)), reqs)
        return
    groups: dict[Rect, list[tuple[Rect, int]]] = {}
    for rect, owner in tiles:
        out_rect = tuple((0, 1) if d in axes else iv for d, iv in enumerate(rect))
        groups.setdefault(out_rect, []).append((rect, owner))
    # Partials by output tile, in tile order; each tile's place among them.
    slots = {out_rect: [None] * len(members) for out_rect, members in groups.items()}
    place = {rect: (slots[out_rect], i) for out_rect, members in groups.items()
             for i, (rect, _) in enumerate(members)}

    def combine_all(op, tasks: dict) -> None:
        """After each tile's partial (tasks: by tile; None where another rank makes it),
        bring the partials to the ranks combining each output tile, and combine."""
        dist, me, out_store = rt.dist, rt.rank, out._v.store
        for out_rect, members in groups.items():
            if dist is not None:
                owners = {out_store.tiling.owners[t]
                          for t in out_store.tiling.tiles_in(out._v.image(out_rect))}
                combiners = range(rt.nranks) if ALL in owners else sorted(owners)
            else:
                combiners = (me,)
            box, waits = slots[out_rect], []
            for i, (rect, owner) in enumerate(members):
                task = tasks.get(rect)
                if task is not None and me in combiners:
                    waits.append(task)
                for rank in combiners if dist is not None else ():
                    if rank == owner:
                        continue
                    got = rt.send_object(op, _slot_getter(box, i), owner, rank,
                                         after=[task] if task is not None else ())
                    if got is not None:
                        recv_task, box[i] = got
                        waits.append(recv_task)
            if me in combiners:
                _combine_task(rt, op, out, out_rect, box, waits, combine, blocked, shape, axes,
                              [rect for rect, _ in members])
        if dist is not None:
            dist.note_write(out_store, out._v.image(full_rect(out._v.shape)))

    if blocked is not None:
        chunked = (lambda chunk, rect: blocked.partial(chunk, shape, axes, rect),
                   _join_rows, reduction_block(shape[0]) if 0 in axes else 1)
    elif join is not None and not in_views:
        chunked = (lambda chunk, rect: partial(chunk), join, 1)
    else:
        chunked = None
    if chunked is not None and rt.fusion is not None and shape:
        # `x` still to be computed by the pending fused group (np.sum(p * Ap)): its tasks
        # reduce it chunk by chunk as they compute it, so it never goes to memory.
        def keep(rect: Rect, value) -> None:
            box, i = place[rect]
            box[i] = value

        if rt.fusion.reduce_pending(
                x, tiles, *chunked, keep,
                lambda tasks: combine_all(rt.operation(name, [], [out._v.store]), tasks),
                temporary):
            return
    op = rt.operation(name, [x._v.store] + [v.store for v in in_views], [out._v.store])
    itemsize = x_np.itemsize
    tasks = {}
    for rect, owner in tiles:
        sl = tile_index(rect)
        in_reqs = [(v.store, v.image(rect), False) for v in in_views]
        if rt.dist is not None:
            for store, img, _ in in_reqs:
                for piece, src in rt.dist.missing(store, img, owner):
                    rt.message(op, store, piece, src, owner)
        if rt.dist is None or owner == rt.rank:
            reqs = [(x._v.store, x._v.image(rect), False)] + in_reqs
            box, i = place[rect]
            if blocked is not None:
                kernel = _block_kernel(blocked, box, i, x_np, sl, shape, axes, rect)
            else:
                kernel = _partial_kernel(partial, box, i, x_np, in_nps, sl)
            tasks[rect] = rt.task(op, kernel, rect, rect_size(rect) * itemsize)
            rt.submit(tasks[rect], reqs)
    combine_all(op, tasks)


def _join_rows(parts: list) -> np.ndarray:
    """A tile's block partials from those of its chunks of rows (blocked_reduction.py)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def _combine_task(rt, op, out, out_rect: Rect, slots: list, waits: list, combine: Callable,
                  blocked, shape, axes, rects: list[Rect]) -> None:
    """Submit the task combining one output tile's partials (slots: each a partial or a
    box, a one-element list, filled by the task or message it comes from)."""
    out_np, out_sl = out._np, tile_index(out_rect)
    positions = [blocked.grid_position(shape, axes, rect) for rect in rects] \
        if blocked is not None else None

    def combine_kernel():
        parts = [s[0] if isinstance(s, list) else s for s in slots]
        if positions is None:
            combine(parts, out_np[out_sl])
        else:
            blocked.combine(parts, positions, shape, axes, out_np[out_sl])

    rt.submit(rt.task(op, combine_kernel, out_rect),
              [(out._v.store, out._v.image(out_rect), True)], after=waits)


def _slot_getter(slots, i):
    return lambda: slots[i]


def _block_kernel(blocked, slots, i, x_np, sl, shape, axes, rect):
    def kernel():
        slots[i] = blocked.partial(x_np[sl], shape, axes, rect)
    return kernel


def _partial_kernel(partial, slots, i, x_np, in_nps, sl):
    def kernel():
        slots[i] = partial(x_np[sl], *[a[sl] for a in in_nps])
    return kernel
