"""event_graph_<script>.dot/.pdf: the point tasks and copies that really ran.

Nodes are clustered by rank, then by processor (plus one communication cluster per rank).
Edges are the recorded dependences (RAW / WAR / WAW / copy) and the messages: a send on rank
``src`` is matched with the receive on rank ``dst`` that has the same (src, dst, tag), in
order. Each kind of edge has its own style and colour; a legend explains them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import graphviz

from ._fmt import PALETTE, fmt_ns, fmt_peer, fmt_rect, safe_stem
from ._graphviz import GraphFiles, hl, label, write_graph
from .trace_reader import Profile, Task

MAX_NODES = 2000  # earliest events drawn; the rest is summarised in one node

EDGE_STYLE: dict[str, dict[str, str]] = {
    "RAW": {"color": "#222222", "style": "solid"},
    "WAR": {"color": "#1f77b4", "style": "dashed"},
    "WAW": {"color": "#ff7f0e", "style": "dotted", "penwidth": "1.5"},
    "copy": {"color": "#2ca02c", "style": "solid"},
    "message": {"color": "#d62728", "style": "bold", "penwidth": "2.5"},
}


def match_messages(copies: list[Task]) -> list[tuple[Task, Task]]:
    """Pairs (send, recv): same (src, dst, tag), k-th send with k-th receive in time order."""
    sends: dict[tuple[int, int, int], list[Task]] = defaultdict(list)
    recvs: dict[tuple[int, int, int], list[Task]] = defaultdict(list)
    for c in copies:
        key = (c.src, c.dst, c.tag)
        if c.side == "send" and c.rank == c.src:
            sends[key].append(c)
        elif c.side == "recv" and c.rank == c.dst:
            recvs[key].append(c)
    pairs = []
    for key, ss in sends.items():
        rs = sorted(recvs.get(key, ()), key=lambda c: (c.start, c.id))
        pairs += zip(sorted(ss, key=lambda c: (c.start, c.id)), rs)
    return pairs


def transitive_edges(edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges (u, v) of a DAG implied by a longer path u -> w -> ... -> v.

    Dropping them (a transitive reduction, as Legion Spy does) keeps the ordering the
    graph shows while removing the long edges that make dot's layout explode.
    """
    succ: dict[str, set[str]] = defaultdict(set)
    indeg: dict[str, int] = defaultdict(int)
    for a, b in edges:
        if b not in succ[a]:
            succ[a].add(b)
            indeg[b] += 1
    nodes = set(succ) | set(indeg)
    bit = {n: 1 << i for i, n in enumerate(nodes)}
    order, ready = [], [n for n in nodes if indeg[n] == 0]
    while ready:  # Kahn: a topological order
        n = ready.pop()
        order.append(n)
        for m in succ.get(n, ()):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    if len(order) != len(nodes):  # a cycle (should not happen): drop nothing
        return set()
    reach: dict[str, int] = {}  # nodes reachable by a path of length >= 1
    implied: set[tuple[str, str]] = set()
    for n in reversed(order):
        total = 0
        via_two = 0
        for m in succ.get(n, ()):
            total |= bit[m] | reach[m]
            via_two |= reach[m]
        reach[n] = total
        for m in succ.get(n, ()):
            if via_two & bit[m]:
                implied.add((n, m))
    return implied


def _nid(e: Task) -> str:
    return f"r{e.rank}_{e.id}"


def build_graph(prof: Profile, *, max_nodes: int = MAX_NODES) -> graphviz.Digraph:
    events = sorted([*prof.tasks, *prof.copies], key=lambda e: (e.start, e.rank, e.id))
    more = max(0, len(events) - max_nodes)
    events = events[:max_nodes]
    kept = {(e.rank, e.id) for e in events}
    colour: dict[str, str] = {}
    g = graphviz.Digraph("event_graph", graph_attr={
        "rankdir": "LR", "fontname": "Helvetica", "newrank": "true", "labelloc": "t",
        "label": hl(f"event graph of {prof.script}: point tasks and copies")})
    g.attr("node", fontname="Helvetica", fontsize="9", shape="box", style="filled,rounded")
    g.attr("edge", arrowsize="0.6", fontname="Helvetica")
    by_lane: dict[int, dict[int, list[Task]]] = defaultdict(lambda: defaultdict(list))
    for e in events:
        by_lane[e.rank][-1 if e.is_copy else e.proc].append(e)
    for r in sorted(by_lane):
        with g.subgraph(name=f"cluster_r{r}") as cr:
            cr.attr(label=f"rank {r}", style="rounded", color="#444444", fontsize="14")
            for p in sorted(by_lane[r]):
                with cr.subgraph(name=f"cluster_r{r}_{'comm' if p < 0 else f'p{p}'}") as cp:
                    cp.attr(label="communication" if p < 0 else f"proc {p}", style="dashed",
                            color="#999999", fontsize="11")
                    for e in by_lane[r][p]:
                        _node(prof, cp, e, colour)
    deps = [(f"r{ed.rank}_{ed.src}", f"r{ed.rank}_{ed.dst}", ed.kind) for ed in prof.edges
            if (ed.rank, ed.src) in kept and (ed.rank, ed.dst) in kept]
    msgs = [(s, rcv) for s, rcv in match_messages(prof.copies)
            if (s.rank, s.id) in kept and (rcv.rank, rcv.id) in kept]
    implied = transitive_edges([(a, b) for a, b, _ in deps] +
                               [(_nid(s), _nid(rcv)) for s, rcv in msgs])
    dropped = 0
    for a, b, kind in deps:
        if (a, b) in implied:
            dropped += 1
            continue
        g.edge(a, b, **EDGE_STYLE.get(kind, EDGE_STYLE["RAW"]))
    for s, rcv in msgs:
        g.edge(_nid(s), _nid(rcv), label=f"tag {s.tag}", fontsize="8",
               fontcolor=EDGE_STYLE["message"]["color"], **EDGE_STYLE["message"])
    if dropped:
        g.attr(label=hl(f"event graph of {prof.script}: point tasks and copies "
                        f"({dropped} dependences implied by longer paths not drawn)", 200))
    if more:
        g.node("more", f"… {more} more tasks/copies not drawn (narrow with --start/--end)",
               shape="note", style="")
    _legend(g)
    return g


def _node(prof: Profile, graph: graphviz.Digraph, e: Task, colour: dict[str, str]) -> None:
    if e.is_copy:
        peer = fmt_peer(e)
        graph.node(_nid(e), label(f"{hl(e.kind)} {hl(e.side)} {peer}",
                                  hl(f"#{e.id} tag {e.tag} {fmt_rect(e.tile)}"),
                                  hl(fmt_ns(e.duration))),
                   shape="cds", style="filled", fillcolor="#fde2e2")
        return
    name = prof.op_name(e.op)
    fill = colour.setdefault(name, PALETTE[len(colour) % len(PALETTE)] + "55")
    graph.node(_nid(e), label(hl(name, 30), hl(f"#{e.id} {fmt_rect(e.tile)}"),
                              hl(fmt_ns(e.duration))), fillcolor=fill)


def _legend(g: graphviz.Digraph) -> None:
    with g.subgraph(name="cluster_legend") as lg:
        lg.attr(label="legend", style="rounded", color="#999999", fontsize="11")
        lg.attr("node", shape="point", width="0.05", style="")
        explain = {"RAW": "RAW (read after write)", "WAR": "WAR (write after read)",
                   "WAW": "WAW (write after write)", "copy": "waits on a copy",
                   "message": "message send → recv"}
        for kind, style in EDGE_STYLE.items():
            lg.node(f"legend_{kind}_a")
            lg.node(f"legend_{kind}_b")
            lg.edge(f"legend_{kind}_a", f"legend_{kind}_b", label=explain[kind], fontsize="9",
                    **style)


def render_event_graph(prof: Profile, out_dir: str | Path, *, pdf: bool = True,
                       script_name: str | None = None,
                       max_nodes: int = MAX_NODES) -> GraphFiles:
    """Write event_graph_<script>.dot (and .pdf when dot is available)."""
    stem = "event_graph_" + safe_stem(script_name or prof.script)
    return write_graph(build_graph(prof, max_nodes=max_nodes), Path(out_dir), stem, pdf=pdf)
