"""Fusion: consecutive elementwise operations over one domain become one kernel per tile.

An elementwise operation that comes with a `Func` (ufuncs, copies, casts) is not launched
at once: it becomes a node of the pending *group*. The group is launched as one operation,
one task per tile, when anything else is issued or waited for, when an operation over
another domain comes, or when adding it would change NumPy's result: an output that
overlaps something the group reads or writes at another mapping (the stencil's
`center[:] = work` reads the neighbours of what it writes) closes the group first.

At launch, nodes whose result arrays are gone (temporaries such as `center + north`) are
not written anywhere: they live in cache-sized blocks inside the kernel (kernels.py), and
nodes nothing live depends on are not computed at all.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hpcarray.runtime import fpe, tasks
from hpcarray.runtime.backend.cpu import kernels
from hpcarray.runtime.fusion import chain, inplace
from hpcarray.runtime.fusion.pieces import Pieces, split
from hpcarray.runtime.partition import Tiling, rect_size, tile_index
from hpcarray.runtime.trace import source_span, user_source_line
from hpcarray.runtime.view import View

# Nodes per group: bounds the kernel's size (and numba's compile time).
MAX_NODES = 256
# Rows of a reducing group's chunk (Sink): about this many bytes of the reduced values,
# reduced while in cache (smaller chunks cost more per call than they save).
SINK_CHUNK_BYTES = 2 << 20


@dataclass(frozen=True, eq=False)
class Func:
    """A fusable elementwise function.

    `call(out_block, *in_blocks)` is the NumPy call itself on blocks, so a fused kernel
    gives NumPy's results bit for bit. `jit` is the same computation as a numba expression
    over "{0}", "{1}", ... whose operands are cast to dtype `loop` except those at
    positions `keep` (None: not compiled). `conditions`: the floating-point conditions
    (fpe bits) NumPy reports for it, under the name `fpe_name` (default `name`): those
    its compiled form raises are reported so (ieee_flags.run_compiled).
    """

    name: str
    call: Callable
    jit: str | None = None
    loop: np.dtype | None = None
    keep: tuple[int, ...] = ()
    conditions: int = 0
    fpe_name: str | None = None


def _unsafe_copy(out, x) -> None:
    np.copyto(out, x, casting="unsafe")


_copies: dict = {}


def copy_func(name: str, dtype: np.dtype) -> Func:
    """Copying (with NumPy's unsafe cast) into an array of `dtype`, as operation `name`."""
    key = (name, dtype)
    f = _copies.get(key)
    if f is None:
        f = _copies[key] = Func(name, _unsafe_copy, kernels.EXPRESSIONS["copy"], dtype,
                                conditions=fpe.OVER | fpe.UNDER, fpe_name="cast")
    return f


class Node:
    __slots__ = ("func", "args", "dtype", "out", "array", "mapping", "issue")

    def __init__(self, func: Func, args: tuple, dtype: np.dtype, out, mapping: tuple):
        self.func = func
        self.args = args  # ("leaf", i) | ("node", j) | ("scalar", value)
        self.dtype = dtype
        self.out = weakref.ref(out._v.store)  # weak: a result nobody holds is not written
        self.array = weakref.ref(out)  # the result array, while it lives
        self.mapping = mapping  # (start, shape, dims) of the output view
        # The caller's errstate and line now: its conditions are reported as its own.
        self.issue = fpe.capture(func.name)


def _key(v: View) -> tuple:
    """A view's identity: its store (aliases of one root differ) and its index map."""
    return (id(v.store), v.start, v.shape, v.dims)


@dataclass
class Sink:
    """A reduction of one node's values that the group's tasks do as they compute them:
    chunks of rows (a multiple of `rows`: the reduction's block along the first axis)
    through `partial(chunk, rect)`, their partials joined by `join` into the tile's,
    handed to `keep(tile, partial)`; `finish(tasks by tile)` then submits what combines
    the partials (after those tasks; None for tiles another rank computes).
    `temporary`: nothing will read the node's result array (only the reduction held it),
    so it is computed in a scratch chunk, never stored."""

    node: int
    partial: Callable
    join: Callable
    rows: int
    keep: Callable
    finish: Callable
    temporary: bool = False
    issue: fpe.Issue | None = None  # the reduction's (its conditions are its own)


class Group:
    """Nodes over one domain, with what they read and write per store (by root)."""

    def __init__(self, shape: tuple[int, ...], tiles: list):
        self.shape = shape
        self.tiles = tiles
        self.nodes: list[Node] = []
        self.leaves: list[View] = []
        self.leaf_nps: list[np.ndarray] = []
        self.leaf_index: dict[tuple, int] = {}
        # id(root accesses) -> (accesses, mapping keys read). The accesses dict is held so
        # that its id is not reused by a new store while the group lives.
        self.reads: dict[int, tuple[dict, set]] = {}
        # id(root accesses) -> (accesses, key, node writing it last, the store if it is
        # an alias: held so that no other alias of the root reuses its id meanwhile)
        self.writes: dict[int, tuple] = {}
        # id(root accesses) -> an output written over what the group reads of its store
        self.inplace: dict[int, View] = {}
        self.sink: Sink | None = None  # a reduction of a node's values, done by its tasks
        # Leaves that are arrays joined along an axis (pieces.py): tasks cut their tiles
        # where pieces meet. Such a group runs on its own (no chain, sink or in place).
        self.pieces: list[Pieces] = []
        # The user's lines of the nodes (and of a sink's reduction), when traced: the
        # operation is theirs, not the line that happened to launch it.
        self.srcs: list[str] = []

    @property
    def name(self) -> str:
        nodes = self.nodes
        return nodes[0].func.name if len(nodes) == 1 else \
            "fused(" + ",".join(n.func.name for n in nodes) + ")"

    @property
    def src(self) -> str:
        return source_span(self.srcs)

    def ref(self, x):
        """The node argument for array or scalar `x`, or None if reading it here would
        not see NumPy's values (another mapping of something the group writes)."""
        if isinstance(x, Pieces):
            return self._ref_pieces(x)
        if not hasattr(x, "_v"):
            return ("scalar", x)
        v, a = x._v, x._np
        if v.shape != self.shape:
            v = v.broadcast_to(self.shape)
            a = v.to_numpy()
        acc = v.store.accesses
        k = _key(v)
        w = self.writes.get(id(acc))
        if w is not None:
            return ("node", w[2]) if w[1] == k else None
        i = self.leaf_index.get(k)
        if i is None:
            i = self.leaf_index[k] = len(self.leaves)
            self.leaves.append(v)
            self.leaf_nps.append(a)
            self.reads.setdefault(id(acc), (acc, set()))[1].add(k)
        return ("leaf", i)

    def _ref_pieces(self, x: Pieces):
        """The leaf for joined arrays `x`: None if the group writes any piece's store, or
        writes in place (whose chunks read plain windows only)."""
        if self.inplace or any(id(v.store.accesses) in self.writes for v in x.views):
            return None
        keys = tuple(_key(v) for v in x.views)
        k = ("pieces", x.axis) + keys
        i = self.leaf_index.get(k)
        if i is None:
            i = self.leaf_index[k] = len(self.leaves)
            self.leaves.append(x)
            self.leaf_nps.append(x)
            self.pieces.append(x)
            for v, key in zip(x.views, keys):
                acc = v.store.accesses
                self.reads.setdefault(id(acc), (acc, set()))[1].add(key)
        return ("leaf", i)

    def may_write(self, v: View) -> bool:
        acc_id, k = id(v.store.accesses), _key(v)
        w = self.writes.get(acc_id)
        if w is not None and w[1] != k:
            return False
        r = self.reads.get(acc_id)
        if r is None or r[1] <= {k}:
            return True
        # Reads of other windows of v's store (the stencil's center[:] = work): written in
        # place where that keeps NumPy's values (inplace.py).
        if w is None and not self.pieces and inplace.applies(v, self.leaves, self.tiles):
            self.inplace[acc_id] = v
            return True
        return False

    def add(self, func: Func, out, args: tuple, src: str) -> None:
        v = out._v
        if src:
            self.srcs.append(src)
        j = len(self.nodes)
        self.nodes.append(Node(func, args, out.dtype, out, (v.start, v.shape, v.dims)))
        acc = v.store.accesses
        self.writes[id(acc)] = (acc, _key(v), j, v.store if v.store.is_alias else None)


class Fuser:
    """Builds groups from the operations issued and launches them."""

    def __init__(self, runtime):
        self.rt = runtime
        self.group: Group | None = None
        # Closed groups waiting to run with the pending one as a chain (chain.py).
        self.chain: list[Group] = []

    def record(self, func: Func, out, ins) -> bool:
        """Add `out[...] = func(*ins)` to the pending group; False if it cannot be fused
        (the caller then launches it as it is)."""
        v = out._v
        if self.rt.dist is not None and (v.store.replicates or any(
                hasattr(x, "_v") and x._v.store.replicates for x in ins)):
            return False  # several ranks: unmatched alias stores run replicated (tasks.py)
        g = self.group
        if g is not None and (g.shape != v.shape or len(g.nodes) >= MAX_NODES
                              or g.sink is not None or not (
                self._same_tiles(g, v) or self._retile_for(g, v))):
            self._close(v)
            g = None
        for _ in range(2):
            if g is None:
                g = self.group = Group(v.shape, v.launch_tiles())
            args = tuple(g.ref(x) for x in ins)
            if None not in args and g.may_write(v):
                g.add(func, out, args, _user_line(self.rt))
                return True
            if not g.nodes:  # conflicts with itself: NumPy semantics need a copy first
                self.group = None
                return False
            self._close(v)
            g = None
        return False

    def reduce_pending(self, x, tiles: list, partial: Callable, join: Callable, rows: int,
                       keep: Callable, finish: Callable, temporary: bool = False) -> bool:
        """Let the pending group reduce `x`, which it computes over its whole domain
        (np.sum(p * Ap)), chunk by chunk in its own tasks (Sink); False if it does not
        compute x so. The group then takes no more nodes: one may read the reduction."""
        g, v = self.group, x._v
        if g is None or g.inplace or g.pieces or g.sink is not None or g.tiles != tiles \
                or not v.is_whole:
            return False
        w = g.writes.get(id(v.store.accesses))
        if w is None or w[1] != _key(v):
            return False
        g.sink = Sink(w[2], partial, join, rows, keep, finish, temporary,
                      fpe.capture("reduce"))
        src = _user_line(self.rt)
        if src:
            g.srcs.append(src)
        return True

    def _close(self, v: View) -> None:
        """The pending group takes no more nodes: it waits to run as part of a chain with
        the next group, which writes `v`, or is launched now (with the chain before it)."""
        if chain.may_follow(self.rt, self.chain + [self.group], v):
            self.chain.append(self.group)
            self.group = None
        else:
            self.flush()

    def _same_tiles(self, g: Group, v: View) -> bool:
        # One rank: any tiling of the domain is correct. Several: tasks run where the
        # output tiles live, so every output of a group must be tiled alike.
        return self.rt.dist is None or v.launch_tiles() == g.tiles

    def _retile_for(self, g: Group, v: View) -> bool:
        """Several ranks, and `v` to be written in place over windows the group reads
        (the stencil's center[:] = work), tiled otherwise than the group's results (an
        interior's tiles start a row off those of a fresh array of its shape). Where
        every store the group writes is fresh (first written by this group: `work` and
        its temporaries), they take v's tiles, and the group runs over them; fresh
        results joining it later take them too (Gray-Scott's second grid's update)."""
        if g.pieces:
            return False
        if g.inplace:  # already retiled: fresh results join it on its tiles
            tiling = Tiling.from_tiles(v.shape, g.tiles, self.rt.nranks) \
                if _fresh(v.store) and v.is_whole else None
            if tiling is not None:
                v.store.tiling = tiling
            return tiling is not None
        r = g.reads.get(id(v.store.accesses))
        if r is None or r[1] <= {_key(v)}:
            return False
        tiles = v.launch_tiles()
        written = [(n.out(), n.mapping) for n in g.nodes]
        if not inplace.applies(v, g.leaves, tiles) or any(
                s is not None and not (_fresh(s) and View(s, *m).is_whole)
                for s, m in written):
            return False
        tiling = Tiling.from_tiles(v.shape, tiles, self.rt.nranks)
        if tiling is None:
            return False
        for s, _ in written:
            if s is not None:
                s.tiling = tiling
        g.tiles = tiles
        return True

    def flush(self) -> None:
        groups = self.chain + ([self.group] if self.group is not None else [])
        self.chain, self.group = [], None
        if groups and groups[-1].sink is not None:  # runs on its own (_launch_reducing)
            *groups, last = groups
        else:
            last = None
        if len(groups) > 1 and chain.launch(self.rt, groups, _built):
            groups = []
        for g in groups:
            _launch(self.rt, g)
        if last is not None:
            _launch_reducing(self.rt, last)


def _user_line(rt) -> str:
    """The user's line issuing a node, where operations are traced (else '')."""
    return user_source_line() if rt.recorder is not None or rt.spmd is not None else ""


def _fresh(store) -> bool:
    """Several ranks: a root store no operation has touched yet (a result being
    computed), whose tiling may still change."""
    return store.coherence is None and not store.is_alias and not store.pinned


def _built(rt, g: Group):
    """The group's kernel plan and what it touches: (plan, live output views, their
    arrays, leaf views, their arrays); None when one rank has nothing alive to write."""
    nodes = g.nodes
    outs = _live_outputs(rt, g)
    if not outs and rt.dist is None:
        return None
    # The backend's plan: the CPU's runs numba or blocked NumPy, a GPU's generated kernels.
    plan = rt.backend.kernels.Plan.build(nodes, [j for j, _ in outs],
                                         [a.dtype for a in g.leaf_nps])
    leaf_nps = [g.leaf_nps[i] for i in plan.leaves]
    # Which results are alive decides what is computed, but it may differ between ranks
    # (garbage cycles die when each rank's collector runs): the messages, the operation
    # and its tasks must not, so several ranks read every leaf whatever is computed.
    leaves = g.leaves if rt.dist is not None else [g.leaves[i] for i in plan.leaves]
    out_views = [v for _, v in outs]
    return plan, out_views, [v.to_numpy() for v in out_views], leaves, leaf_nps


def _live_outputs(rt, g: Group, dead: int | None = None) -> list[tuple[int, View]]:
    """(node index, view) of the results still alive (but those written to the store of
    node `dead`), each taking a dropped result's buffer where one is dying (pool.py)."""
    dead_store = g.nodes[dead].out() if dead is not None else None
    outs = []
    for j, n in enumerate(g.nodes):
        store = n.out()
        if store is not None and store is not dead_store:
            rt.reuse_buffer(store, n.array())
            outs.append((j, View(store, *n.mapping)))
    return outs


def _launch_reducing(rt, g: Group) -> None:
    """The group with its sink: each task computes its tile chunk by chunk and reduces
    the sink's node from the chunk while it is in cache. A node nobody holds (the
    `p * Ap` of np.sum(p * Ap)) goes to a scratch chunk, not to memory."""
    sink = g.sink
    outs = _live_outputs(rt, g, sink.node if sink.temporary else None)
    live = [j for j, _ in outs]
    at = live.index(sink.node) if sink.node in live else len(live)
    plan = rt.backend.kernels.Plan.build(g.nodes,
                                         live if at < len(live) else live + [sink.node],
                                         [a.dtype for a in g.leaf_nps])
    # Several ranks read every leaf whatever is computed (see _built).
    leaves = g.leaves if rt.dist is not None else [g.leaves[i] for i in plan.leaves]
    leaf_nps = [g.leaf_nps[i] for i in plan.leaves]
    out_views = [v for _, v in outs]
    out_nps = [v.to_numpy() for v in out_views]
    dtype = g.nodes[sink.node].dtype
    op = rt.operation(g.name, [v.store for v in leaves], [v.store for v in out_views],
                      g.src)
    op.fp = fpe.first(n.issue for n in g.nodes) or sink.issue
    launched = {}
    for rect, owner in g.tiles:
        in_reqs = [(v.store, v.image(rect), False) for v in leaves]
        out_reqs = [(v.store, v.image(rect), True) for v in out_views]
        kernel = _reducing_kernel(plan, out_nps, leaf_nps, at, dtype, sink, rect,
                                  rt.settings.jit, rt.backend.xp.empty)
        launched[rect] = tasks.launch(rt, op, kernel, rect, owner, out_reqs, in_reqs,
                                      nbytes=rect_size(rect) * dtype.itemsize)
    tasks.note_writes(rt, out_views)
    sink.finish(launched)


def _reducing_kernel(plan, out_nps, leaf_nps, at: int, dtype, sink: Sink, rect, jit: str,
                     empty):
    """`empty`: the backend's (the chunk's scratch is tile memory)."""
    sl = tile_index(rect)

    def kernel():  # (tiles taken when it runs: a block may have grown since it was issued)
        outs, leaves = [o[sl] for o in out_nps], [a[sl] for a in leaf_nps]
        shape = tuple(hi - lo for lo, hi in rect)
        row = max(1, rect_size(((0, 1),) + rect[1:])) * dtype.itemsize
        chunk = max(1, SINK_CHUNK_BYTES // row // sink.rows) * sink.rows
        all_outs, still = outs, ()
        if at == len(outs):  # scratch for the chunk
            all_outs = outs + [empty((min(chunk, shape[0]),) + shape[1:], dtype)]
            still = (at,)
        run = plan.rows_runner(all_outs, leaves, jit, still)
        parts = []
        for lo in range(0, shape[0], chunk):
            hi = min(lo + chunk, shape[0])
            run(lo, hi)
            value = all_outs[at][:hi - lo] if still else all_outs[at][lo:hi]
            fpe.step(sink.issue)
            parts.append(sink.partial(value, ((rect[0][0] + lo, rect[0][0] + hi),) + rect[1:]))
        sink.keep(rect, sink.join(parts))
    return kernel


def _launch(rt, g: Group) -> None:
    built = _built(rt, g)
    if built is None:
        return
    plan, out_views, out_nps, leaves, leaf_nps = built
    name = g.name
    itemsize = sum(a.itemsize for a in out_nps)
    jit = rt.settings.jit
    if g.inplace:
        _launch_in_place(rt, g, name, plan, leaves, out_views, out_nps, itemsize)
        return
    op = rt.operation(name, _stores(leaves), [v.store for v in out_views], g.src)
    op.fp = fpe.first(n.issue for n in g.nodes)
    for rect, owner in g.tiles:
        in_reqs = _reads(leaves, rect)
        out_reqs = [(v.store, v.image(rect), True) for v in out_views]
        kernel = _kernel(plan, out_nps, leaf_nps, rect, g.pieces, jit) \
            if out_views else _nothing
        tasks.launch(rt, op, kernel, rect, owner, out_reqs, in_reqs,
                   nbytes=rect_size(rect) * itemsize)
    tasks.note_writes(rt, out_views)


def _launch_in_place(rt, g: Group, name: str, plan, leaves, out_views, out_nps,
                     itemsize: int) -> None:
    """The group with its in-place outputs (inplace.py): an operation copying every
    tile's halo rows, then one writing the tiles, each task after its own tile's copy."""
    frames = [inplace.Frame(t, g.leaves) for t in g.inplace.values()]
    written = {id(f.store) for f in frames}
    halo_op = rt.operation(name + " halo", [f.store for f in frames], [], g.src)
    halo_op.fp = None  # copies
    snaps = []
    for rect, owner in g.tiles:
        snap: dict = {}
        reads = [(f.store, h, False) for f in frames for h in f.halo_rects(rect)]
        snaps.append((snap, tasks.launch(rt, halo_op, inplace.snapshot_kernel(frames, rect, snap),
                                       rect, owner, [], reads)))
    op = rt.operation(name, [v.store for v in leaves], [v.store for v in out_views], g.src)
    op.fp = fpe.first(n.issue for n in g.nodes)
    views = [g.leaves[i] for i in plan.leaves]
    leaf_nps = [g.leaf_nps[i] for i in plan.leaves]
    for (rect, owner), (snap, task) in zip(g.tiles, snaps):
        # Their own rows of the stores written in place; the rows around them come from
        # the snapshots.
        in_reqs = [(v.store, v.image(rect), False) for v in leaves
                   if id(v.store) not in written]
        in_reqs += [(f.store, f.own_rect(rect), False) for f in frames]
        out_reqs = [(v.store, v.image(rect), True) for v in out_views]
        kernel = inplace.write_kernel(plan, frames, rect, out_nps, leaf_nps, views, snap,
                                      rt.settings.jit)
        tasks.launch(rt, op, kernel, rect, owner, out_reqs, in_reqs,
                   after=[task] if task is not None else (),
                   nbytes=rect_size(rect) * itemsize)
    tasks.note_writes(rt, out_views)


def _nothing() -> None:
    pass


def _kernel(plan, out_nps, leaf_nps, rect, pieces, jit):
    if not pieces:
        sl = tile_index(rect)

        def kernel():
            plan.run([o[sl] for o in out_nps], [a[sl] for a in leaf_nps], jit)
        return kernel

    def kernel():  # each part of the tile reads one piece of every joined leaf
        # (compiled or not as for the whole tile: a thin part, the column where periodic
        # neighbours wrap around, then costs one call, not one NumPy call per node)
        run = plan.runner(len(rect), jit, rect_size(rect))
        for part in split(rect, pieces):
            sl = tile_index(part)
            run([o[sl] for o in out_nps],
                [a.window(part) if isinstance(a, Pieces) else a[sl] for a in leaf_nps])
    return kernel


def _stores(leaves) -> list:
    """The stores leaves read (every piece's of joined ones)."""
    return [s for v in leaves for s in (v.stores if isinstance(v, Pieces) else (v.store,))]


def _reads(leaves, rect) -> list[tuple]:
    """What the task over domain tile `rect` reads of the leaves."""
    reqs = []
    for v in leaves:
        if isinstance(v, Pieces):
            reqs += [(store, r, False) for store, r in v.requests(rect)]
        else:
            reqs.append((v.store, v.image(rect), False))
    return reqs
