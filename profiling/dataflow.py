"""dataflow_<script>.dot/.pdf: the logical dataflow of a program.

Boxes are operations (name and the user's source line), ellipses are store versions (variable
name where known, shape, dtype); an edge version -> op is a read, op -> version a write.
Repeated loop iterations are folded: when the op sequence repeats with the same names and
source lines, reading the same stores or values made by the matching ops of their own
iteration (:func:`same_steps`), one iteration is drawn inside a cluster labelled "×N
iterations", and reads of the previous iteration's results are drawn as dashed "next
iteration" edges. Two sums of unrelated arrays on one line are not a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import graphviz

from ._fmt import safe_stem
from ._graphviz import GraphFiles, hl, label, write_graph
from .trace_reader import Op, Profile

MAX_OPS = 300  # ops drawn (after folding loops); the rest is summarised in one node
MAX_PERIOD = 100  # longest loop body searched for
MAX_SCAN = 20_000  # ops searched for loops
MAX_LINEAGE = 32  # producers followed back when comparing two ops' inputs


@dataclass
class Loop:
    start: int  # index of the first op of the first iteration
    period: int  # ops per iteration
    count: int  # iterations


Same = Callable[[int, int], bool]


def same_steps(ops: list[Op]) -> Same:
    """`same(i, j)`: op j repeats op i one or more iterations later. Same name and source
    line, and each input is the same store (the loop's variable, or an invariant) or a
    value made by ops that are the same steps as far back (a temporary of the iteration:
    made by the op j - i later)."""
    writer = {v: k for k, op in enumerate(ops) for v in op.writes}
    memo: dict[tuple[int, int], bool] = {}

    def same(i: int, j: int, depth: int = 0) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        a, b = ops[i], ops[j]
        ok = a.name == b.name and a.src == b.src and len(a.reads) == len(b.reads)
        for ra, rb in zip(a.reads, b.reads) if ok else ():
            if ra[0] == rb[0]:
                continue
            wa, wb = writer.get(ra), writer.get(rb)
            if wa is None or wb is None or wb - wa != j - i or depth >= MAX_LINEAGE \
                    or not same(wa, wb, depth + 1):
                ok = False
                break
        memo[key] = ok
        return ok
    return same


def find_loop(keys: list, lo: int = 0, hi: int | None = None,
              same: Same | None = None) -> Loop | None:
    """The repeated block covering the most of keys[lo:hi] (ties: shortest period); ops i
    and j match where `same(i, j)` (default: equal keys)."""
    if same is None:
        def same(i: int, j: int) -> bool:
            return keys[i] == keys[j]
    hi = min(len(keys) if hi is None else hi, lo + MAX_SCAN)
    best: tuple[int, int, int] | None = None  # (coverage, -period, -start)
    for p in range(1, min(MAX_PERIOD, (hi - lo) // 2) + 1):
        run, run_start = 0, lo
        for i in range(lo, hi - p + 1):
            if i < hi - p and same(i, i + p):
                if run == 0:
                    run_start = i
                run += 1
                continue
            if run:
                k = (run + p) // p
                if k >= 2:
                    cand = (k * p, -p, -run_start)
                    if best is None or cand > best:
                        best = cand
            run = 0
    if best is None:
        return None
    cover, neg_p, neg_s = best
    return Loop(-neg_s, -neg_p, cover // -neg_p)


def plan(keys: list, lo: int = 0, hi: int | None = None, depth: int = 0,
         same: Same | None = None) -> list:
    """Segments of keys[lo:hi]: ints (plain op indices) and Loop objects, in order."""
    hi = len(keys) if hi is None else hi
    loop = find_loop(keys, lo, hi, same) if depth < 8 and hi - lo >= 2 else None
    if loop is None:
        return list(range(lo, hi))
    end = loop.start + loop.period * loop.count
    return [*plan(keys, lo, loop.start, depth + 1, same), loop,
            *plan(keys, end, hi, depth + 1, same)]


def build_graph(prof: Profile) -> graphviz.Digraph:
    ops: list[Op] = [prof.ops[i] for i in sorted(prof.ops)]
    keys = [(op.name, op.src) for op in ops]
    segments = plan(keys, same=same_steps(ops))
    rep = list(range(len(ops)))  # op index -> representative op index
    vmap: dict[tuple[int, int], tuple[int, int]] = {}  # version -> drawn version
    last_ver: dict[tuple[int, int], int] = {}  # drawn version -> last version it stands for
    for seg in segments:
        if isinstance(seg, Loop):
            for j in range(1, seg.count):
                for i in range(seg.period):
                    a, b = seg.start + j * seg.period + i, seg.start + i
                    rep[a] = b
                    for w_a, w_b in zip(ops[a].writes, ops[b].writes):
                        vmap[w_a] = w_b
                        last_ver[w_b] = w_a[1] if w_a[0] == w_b[0] else last_ver.get(w_b, 0)
    g = graphviz.Digraph("dataflow", graph_attr={
        "rankdir": "TB", "fontname": "Helvetica", "label": hl(f"dataflow of {prof.script}"),
        "labelloc": "t", "newrank": "true"})
    g.attr("node", fontname="Helvetica", fontsize="10")
    g.attr("edge", fontname="Helvetica", fontsize="9")
    drawn_versions: set[tuple[int, int]] = set()
    writer_of: dict[tuple[int, int], int] = {}  # drawn version -> drawn op index
    for idx, op in enumerate(ops):
        if rep[idx] == idx:
            for w in op.writes:
                writer_of.setdefault(w, idx)

    def vnode(graph: graphviz.Digraph, v: tuple[int, int]) -> str:
        nid = f"s{v[0]}v{v[1]}"
        if v not in drawn_versions:
            drawn_versions.add(v)
            st = prof.stores.get(v[0])
            name = st.name if st and st.name else f"tmp #{v[0]}"
            shape = "×".join(map(str, st.shape)) if st and st.shape else "scalar"
            dtype = st.dtype if st else "?"
            last = last_ver.get(v, 0)
            ver = f"v{v[1]}…v{last}" if last > v[1] else f"v{v[1]}"
            graph.node(nid, label(f"{hl(name, 30)} {ver}", hl(f"{shape} {dtype}")),
                       shape="ellipse", style="filled", fillcolor="#eef5ff")
        return nid

    def draw_op(graph: graphviz.Digraph, idx: int) -> None:
        op = ops[idx]
        graph.node(f"op{op.id}", label(hl(op.name, 40), hl(op.src)), shape="box",
                   style="rounded,filled", fillcolor="#fff4dd")
        for w in op.writes:
            g.edge(f"op{op.id}", vnode(graph, w))

    drawn_ops: list[int] = []
    more = 0
    for n_seg, seg in enumerate(segments):
        if isinstance(seg, Loop):
            body = list(range(seg.start, seg.start + seg.period))
            if len(drawn_ops) + len(body) > MAX_OPS:
                more += seg.period * seg.count
                continue
            with g.subgraph(name=f"cluster_loop{n_seg}") as c:
                c.attr(label=f"×{seg.count} iterations ({seg.period} ops each)",
                       style="dashed,rounded", color="#666666", fontname="Helvetica")
                for idx in body:
                    draw_op(c, idx)
            drawn_ops += body
        elif len(drawn_ops) < MAX_OPS:
            draw_op(g, seg)
            drawn_ops.append(seg)
        else:
            more += 1
    shown = set(drawn_ops)
    seen_edges: set[tuple[str, str]] = set()
    for idx, op in enumerate(ops):
        r = rep[idx]
        if r not in shown:
            continue
        for v in op.reads:
            dv = vmap.get(v, v)
            w = writer_of.get(dv)
            if w is not None and w not in shown:
                continue
            key = (f"s{dv[0]}v{dv[1]}", f"op{ops[r].id}")
            if key in seen_edges:
                continue
            seen_edges.add(key)
            # a later op of the body produced it: the previous iteration's result
            carried = r != idx and w is not None and w >= r
            vnode(g, dv)
            if carried:
                g.edge(*key, style="dashed", color="#3366cc", label="next iteration",
                       constraint="false")
            else:
                g.edge(*key)
    if more:
        g.node("more", f"… {more} more operations not drawn", shape="note")
    return g


def render_dataflow(prof: Profile, out_dir: str | Path, *, pdf: bool = True,
                    script_name: str | None = None) -> GraphFiles:
    """Write dataflow_<script>.dot (and .pdf when dot is available)."""
    stem = "dataflow_" + safe_stem(script_name or prof.script)
    return write_graph(build_graph(prof), Path(out_dir), stem, pdf=pdf)
