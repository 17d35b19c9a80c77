"""Operation templates: how an API call becomes point tasks.

Three shapes of operation cover the library:
- `elementwise`: outputs and broadcast inputs share one index space; one task per output
  tile, each reading the image of its tile in every input (which may reach into
  neighbouring tiles: halos);
- `reduction`: one partial per input tile, then one combining task per output tile;
- `whole`: one task over whole arrays (scans, sorts, gathers: correct first, tiled later).

Arguments are hpcarray arrays (anything with `_v`, a View, and `_np`, its NumPy view) or
plain scalars. Kernels are plain NumPy calls on tile views of the local buffers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hpcarray.runtime.core import get_runtime
from hpcarray.runtime.partition import Rect, full_rect, rect_size, rect_slices


def _is_array(x) -> bool:
    return hasattr(x, "_v")


def _tile_kernel(fn, out_nps, in_nps, sl):
    def kernel():
        fn([o[sl] for o in out_nps], [x[sl] if isinstance(x, np.ndarray) else x for x in in_nps])
    return kernel


def elementwise(name: str, fn: Callable, outs: Sequence, ins: Sequence,
                copy_aliased: Callable | None = None) -> None:
    """Run `fn(out_tiles, in_tiles)` over the outputs' tiles.

    `ins` are arrays (broadcast to the outputs' shape here) or scalars passed through.
    An input that aliases an output at a different mapping is first copied with
    `copy_aliased` (NumPy semantics: inputs are read as they were before the call).
    """
    rt = get_runtime()
    shape = outs[0]._v.shape
    size = 1
    for n in shape:
        size *= n
    if size == 0:
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
        nps.append(x._np if x._np.shape == shape else np.broadcast_to(x._np, shape))
    out_nps = [o._np for o in outs]
    if rt.idle and rt.is_small(size):
        fn(out_nps, nps)
        return
    reads = [v.store for v in views if v is not None]
    writes = [o._v.store for o in outs]
    op = rt.operation(name, reads, writes)
    itemsize = sum(o._np.itemsize for o in outs)
    for rect, _owner in outs[0]._v.launch_tiles():
        reqs = [(o._v.store, o._v.image(rect), True) for o in outs]
        reqs += [(v.store, v.image(rect), False) for v in views if v is not None]
        task = rt.task(op, _tile_kernel(fn, out_nps, nps, rect_slices(rect)), rect,
                       rect_size(rect) * itemsize)
        rt.submit(task, reqs)


def whole(name: str, fn: Callable, outs: Sequence, ins: Sequence) -> None:
    """Run `fn(out_nps, in_nps)` as one task over whole arrays."""
    rt = get_runtime()
    in_nps = [x._np if _is_array(x) else x for x in ins]
    out_nps = [o._np for o in outs]
    if rt.idle:
        fn(out_nps, in_nps)
        return
    arrays_in = [x for x in ins if _is_array(x)]
    op = rt.operation(name, [x._v.store for x in arrays_in], [o._v.store for o in outs])
    reqs = [(o._v.store, o._v.image(full_rect(o._v.shape)), True) for o in outs
            if o._np.size]
    reqs += [(x._v.store, x._v.image(full_rect(x._v.shape)), False) for x in arrays_in
             if x._np.size]

    def kernel():
        fn(out_nps, in_nps)

    rt.submit(rt.task(op, kernel, full_rect(outs[0]._v.shape) if outs else ()), reqs)


def reduction(name: str, x, ins: Sequence, axes: tuple[int, ...], out,
              partial: Callable, combine: Callable) -> None:
    """Reduce `x` over `axes` into `out` (shaped like x with the axes kept at extent 1).

    `partial(x_tile, *in_tiles)` returns a partial result shaped like the tile with the
    reduced axes at extent 1 (or a tuple of such arrays); `combine(partials, out_tile)`
    combines the partials of one output tile in tile order and writes it.
    `ins` are further arrays broadcast to x's shape (e.g. `where=`).
    """
    rt = get_runtime()
    shape = x._v.shape
    in_views = [v._v if v._v.shape == shape else v._v.broadcast_to(shape) for v in ins]
    in_nps = [v._np if v._np.shape == shape else np.broadcast_to(v._np, shape) for v in ins]
    x_np, out_np = x._np, out._np
    size = x_np.size
    tiles = x._v.launch_tiles() if size else [(full_rect(shape), 0)]
    if (rt.idle and rt.is_small(size)) or len(tiles) == 1:
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
    op = rt.operation(name, [x._v.store] + [v.store for v in in_views], [out._v.store])
    groups: dict[Rect, list[Rect]] = {}
    for rect, _owner in tiles:
        out_rect = tuple((0, 1) if d in axes else iv for d, iv in enumerate(rect))
        groups.setdefault(out_rect, []).append(rect)
    itemsize = x_np.itemsize
    for out_rect, rects in groups.items():
        slots: list = [None] * len(rects)
        parts = []
        for i, rect in enumerate(rects):
            sl = rect_slices(rect)
            reqs = [(x._v.store, x._v.image(rect), False)]
            reqs += [(v.store, v.image(rect), False) for v in in_views]
            task = rt.task(op, _partial_kernel(partial, slots, i, x_np, in_nps, sl), rect,
                           rect_size(rect) * itemsize)
            rt.submit(task, reqs)
            parts.append(task)
        out_sl = rect_slices(out_rect)

        def combine_kernel(slots=slots, out_sl=out_sl):
            combine(slots, out_np[out_sl])
            slots.clear()

        task = rt.task(op, combine_kernel, out_rect)
        rt.submit(task, [(out._v.store, out._v.image(out_rect), True)], after=parts)


def _partial_kernel(partial, slots, i, x_np, in_nps, sl):
    def kernel():
        slots[i] = partial(x_np[sl], *[a[sl] for a in in_nps])
    return kernel
