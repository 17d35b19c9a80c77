"""Chains: consecutive fused groups that update windows of one array, run in one pass.

An operator applied by slicing (`Au = d * u; Au[1:] -= u[:-1]; Au[:-1] -= u[1:]; ...`) or
boundary conditions (`u[0] = 0; u[:, -1] = u[:, -2]`) make one group per window, each a
pass over memory. When every group of a run writes windows of one array S, reads S only at
the window it writes (elementwise updates) and reads nothing that another group of the run
writes, running them chunk of S's rows by chunk, each chunk through every group in program
order, gives NumPy's values: every element sees the same updates in the same order with
the same operands. The chunk stays in cache from one group to the next, so the run costs
one pass over memory instead of one per window.

Several ranks: which results are alive may differ between ranks (garbage cycles die when
each rank's collector runs), and their operations and messages must not. So there a chain
is decided on what every rank has alike: every group writes S alone (no temporaries of
its own), and S is found among what the groups read; each task then fetches the halos
its windows reach, as any other task does.
"""

from __future__ import annotations

from hpcarray.runtime import fpe, tasks
from hpcarray.runtime.backend.cpu import chain_driver
from hpcarray.runtime.fusion import inplace
from hpcarray.runtime.partition import rect_size, tile_index
from hpcarray.runtime.trace import source_span
from hpcarray.runtime.view import View

MAX_GROUPS = 8


def _window(g, acc_id):
    """The window (start, shape) of S that group g writes, or None if it is not a plain
    window (steps of 1, axes in order) of a root store."""
    w = g.writes.get(acc_id)
    if w is None or w[3] is not None:  # not written, or through an alias
        return None
    _, start, shape, dims = w[1]
    if dims != tuple((d, 1) for d in range(len(start))) or len(shape) != len(start):
        return None
    return start, shape


def may_follow(rt, groups: list, v) -> bool:
    """Whether the group being closed (the last of `groups`) may wait for the next one,
    which writes `v`, to run with it as a chain (checked fully at launch)."""
    acc_id = id(v.store.accesses)
    windows = [_window(g, acc_id) for g in groups]
    # A chain may start with the whole array (`Au = d * u`): its buffer is still taken
    # over from last iteration's result at launch (pool.py), and the updates then find
    # each chunk in cache.
    return (len(groups) < MAX_GROUPS and len(v.shape) > 0
            and not any(g.inplace or g.sink or g.pieces for g in groups)
            and None not in windows
            and (rt.dist is None or all(len(g.writes) == 1 for g in groups)))


def _store_of(groups) -> int | None:
    """The root (accesses id) every group writes a window of."""
    common = set(groups[0].writes)
    for g in groups[1:]:
        common &= set(g.writes)
    found = [a for a in common if all(_window(g, a) is not None for g in groups)]
    return found[0] if len(found) == 1 else None


def _independent(groups, s_id: int) -> bool:
    """Each group reads S only where it writes it, and nothing another group writes; what
    it writes besides S no other group touches."""
    for k, g in enumerate(groups):
        others = [h for j, h in enumerate(groups) if j != k]
        own_key = g.writes[s_id][1]
        for acc_id, (_, keys) in g.reads.items():
            if acc_id == s_id:
                if keys - {own_key}:
                    return False
            elif any(acc_id in h.writes for h in others):
                return False
        for acc_id in g.writes:
            if acc_id != s_id and any(acc_id in h.writes or acc_id in h.reads
                                      for h in others):
                return False
    return True


class _Part:
    """One group's share of a chain: its plan, buffers and window of S."""

    def __init__(self, plan, out_views, out_nps, leaves, leaf_nps, start, shape):
        self.plan, self.out_views, self.out_nps = plan, out_views, out_nps
        self.leaves, self.leaf_nps = leaves, leaf_nps
        self.start, self.shape = start, shape

    def domain_rect(self, rect):
        """The part of S's rectangle in this window, in the group's coordinates (None if
        they do not meet)."""
        out = []
        for (lo, hi), s, n in zip(rect, self.start, self.shape):
            a, b = max(lo, s), min(hi, s + n)
            if a >= b:
                return None
            out.append((a - s, b - s))
        return tuple(out)


def launch(rt, groups: list, build) -> bool:
    """Launch `groups` as one chain (True), or nothing if they do not form one (False).
    `build(rt, g)` gives a group's (plan, live output views, their arrays, leaf views,
    their arrays), or None when nothing of it is alive."""
    if any(g.pieces for g in groups):  # (one joined arrays after the chain was begun)
        return False
    s_id = _store_of(groups)
    if s_id is None or not _independent(groups, s_id):
        return False
    if rt.dist is None:
        store = next((st for g in groups for n in g.nodes
                      if (st := n.out()) is not None and id(st.accesses) == s_id), None)
    elif all(len(g.writes) == 1 for g in groups):
        store = next((v.store for g in groups for v in g.leaves
                      if id(v.store.accesses) == s_id and not v.store.is_alias), None)
    else:
        store = None
    if store is None:  # S is gone (or, several ranks, not read): run one by one
        return False
    parts, names, srcs = [], [], []
    for g in groups:
        built = build(rt, g)
        if built is None:
            continue
        start, shape = _window(g, s_id)
        parts.append(_Part(*built, start, shape))
        names.append(g.name)
        srcs += g.srcs
    if not parts:
        return True
    reads = {id(v.store): v.store for p in parts for v in p.leaves}
    writes = {id(v.store): v.store for p in parts for v in p.out_views}
    op = rt.operation("+".join(names), list(reads.values()), list(writes.values()),
                      source_span(srcs))
    op.fp = fpe.first(n.issue for g in groups for n in g.nodes)
    row_bytes = max(1, rect_size(((0, 1),) + tuple((0, n) for n in store.shape[1:]))
                    * store.buffer.itemsize)
    chunk = max(1, inplace.CHUNK_BYTES // row_bytes)
    jit = rt.settings.jit
    for rect, owner in View.whole(store).launch_tiles():
        mine = [(p, d) for p in parts if (d := p.domain_rect(rect)) is not None]
        if not mine:
            continue
        in_reqs = [(v.store, v.image(d), False) for p, d in mine for v in p.leaves]
        out_reqs = [(v.store, v.image(d), True) for p, d in mine for v in p.out_views]
        tasks.launch(rt, op, _kernel(mine, rect[0], chunk, jit), rect, owner, out_reqs, in_reqs,
                   nbytes=rect_size(rect) * store.buffer.itemsize)
    tasks.note_writes(rt, [v for p in parts for v in p.out_views])
    return True


def _kernel(mine, rows, chunk: int, jit: str):
    def kernel():
        tiles = [(p, tile_index(d), p.start[0] + d[0][0], p.start[0] + d[0][1])
                 for p, d in mine]
        calls = [p.plan.flat_call([o[sl] for o in p.out_nps], [a[sl] for a in p.leaf_nps],
                                  jit) for p, sl, _, _ in tiles]
        if None not in calls and chain_driver.run(calls, tiles, rows):
            return
        # Each part's loop is set up once for the tile, then run chunk by chunk.
        runs = [(first, end, p.plan.rows_runner([o[sl] for o in p.out_nps],
                                                [a[sl] for a in p.leaf_nps], jit))
                for p, sl, first, end in tiles]
        for r0 in range(rows[0], rows[1], chunk):
            r1 = min(r0 + chunk, rows[1])
            for first, end, run in runs:
                lo, hi = max(r0, first), min(r1, end)
                if lo < hi:
                    run(lo - first, hi - first)
    return kernel
