"""timeline.html: a self-contained, offline, zoomable timeline of a profile.

One lane per rank x processor, one lane per GPU (where tasks ran on one: each task's span on
the GPU, from CUDA events) and one communication lane per rank; a bar per task, per GPU
span and per copy, coloured by operation. Time a task spent importing numba and compiling
its kernel is a thin black bar over the task's own (legend entry "numba compile"). Bars are
WebGL line segments (``Scattergl``): a few hundred thousand points draw in seconds, where
SVG bars would take minutes. Beyond ``max_bars``, consecutive short bars of a lane are
merged into coarse bars whose hover summarises them.
Everything that comes from user code (op names, source lines, store names) is HTML-escaped.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from hpcarray.runtime.trace import source_span

from . import _fmt
from ._bars import Bars, build_bars, build_lanes, categories, utilisation
from .trace_reader import GPU_PROC, Profile, Task

MAX_WAITS = 6  # predecessors listed in a hover
COMPILE_COLOR = "#000000"


def _esc(s: object) -> str:
    """Text for the page and for plotly's labels (which decode &amp; &lt; &gt; but show
    &quot; as it is): only the characters that start markup are escaped, once."""
    return html.escape(str(s), quote=False)


def _waits(prof: Profile, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """Incoming edges of the wanted events: (rank, dst) -> [(kind, src event)]."""
    by_id = {(e.rank, e.id): e for e in prof.tasks}
    by_id.update({(e.rank, e.id): e for e in prof.copies})
    out: dict[tuple[int, int], list] = defaultdict(list)
    for ed in prof.edges:
        key = (ed.rank, ed.dst)
        if key in wanted:
            src = by_id.get((ed.rank, ed.src))
            if src is not None:
                out[key].append((ed.kind, src))
    return out


def _describe(prof: Profile, e: Task) -> str:
    if e.is_copy:
        return f"{_esc(e.kind)} {_esc(e.side)} {e.id}"
    if e.proc == GPU_PROC:
        return f"{_esc(prof.op_name(e.op))} task {e.id} on the GPU"
    return f"{_esc(prof.op_name(e.op))} task {e.id}"


def _hover(prof: Profile, e: Task, waits: list) -> str:
    op = prof.ops.get(e.op)
    src = _esc(op.src) if op else "?"
    lines = []
    if e.is_copy:
        peer = _fmt.fmt_peer(e)
        lines.append(f"<b>{_esc(e.kind)} {_esc(e.side)}</b> {peer} · tag {e.tag} · "
                     f"rank {e.rank} (copy {e.id})")
        lines.append(f"for op: {_esc(prof.op_name(e.op))} at {src}")
        st = prof.stores.get(e.store)
        sname = _esc(st.name) if st and st.name else f"store {e.store}"
        lines.append(f"store: {sname} {_fmt.fmt_rect(e.tile)}")
    elif e.proc == GPU_PROC:
        h = prof.headers.get(e.rank)
        gpu = "" if h is None or h.gpu is None else f" {h.gpu}"
        lines.append(f"<b>{_esc(prof.op_name(e.op))}</b> · task {e.id} on the GPU · "
                     f"rank {e.rank} · GPU{gpu}")
        lines.append(f"source: {src}")
        lines.append("GPU time from CUDA events (with any wait for the task's launches)")
    else:
        lines.append(f"<b>{_esc(prof.op_name(e.op))}</b> · task {e.id} · rank {e.rank} · "
                     f"proc {e.proc}")
        lines.append(f"source: {src}")
        lines.append(f"tile: {_esc(_fmt.fmt_rect(e.tile))}")
    if e.proc != GPU_PROC:
        lines.append(f"bytes: {_fmt.fmt_bytes(e.bytes)}")
    lines.append(f"duration: {_fmt.fmt_ns(e.duration)} (start {e.start / 1e9:.6f} s)")
    if waits:
        last = max(waits, key=lambda w: w[1].end)[1]
        parts = []
        for kind, s in sorted(waits, key=lambda w: -w[1].end)[:MAX_WAITS]:
            mark = " (last)" if s is last and len(waits) > 1 else ""
            parts.append(f"{_esc(kind)} ← {_describe(prof, s)}{mark}")
        more = f"<br>  … +{len(waits) - MAX_WAITS} more" if len(waits) > MAX_WAITS else ""
        lines.append("waited on:<br>  " + "<br>  ".join(parts) + more)
    else:
        lines.append("waited on: nothing recorded")
    return "<br>".join(lines)


def _merged_hover(bars: Bars, i: int, names: list[str], labels: list[str]) -> str:
    """Hover of a merged bar; ``names`` and ``labels`` are already HTML-escaped."""
    start, end = float(bars.start[i]), float(bars.end[i])
    span = end - start
    busy = float(bars.busy[i])
    top = ", ".join(f"{names[c]} {100 * t / busy:.0f}%" for c, t in (bars.top or [])[i]
                    if busy > 0)
    return (f"<b>{int(bars.count[i])} events merged</b> · {labels[bars.lane[i]]}<br>"
            f"{start / 1e9:.6f} – {end / 1e9:.6f} s ({_fmt.fmt_ns(span)})<br>"
            f"busy: {_fmt.fmt_ns(busy)} ({100 * busy / max(span, 1):.0f}% of the span)<br>"
            f"ops by time: {top}<br>(each shorter than {_fmt.fmt_ns(bars.quantum)}; "
            f"use --start/--end to see them one by one)")


def build_figure(prof: Profile, *, max_bars: int = 50_000) -> tuple[dict, dict]:
    """The plotly figure (as a dict: ``data``, ``layout``) and facts about it (lanes, bars
    drawn, events, the merge quantum)."""
    lanes = build_lanes(prof)
    events: list[Task] = [*prof.tasks, *prof.copies, *prof.gpu]
    names, cat = categories(prof, events)
    lo, hi = prof.span()
    bars = build_bars(events, lanes, cat, len(names), max_bars=max_bars, span=(lo, hi))
    nl = len(lanes.labels)
    lane_px = 26 if nl <= 30 else max(6, 800 // nl)
    timeline_px = nl * lane_px + 80
    util_px = 220
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[timeline_px, util_px])
    single = np.flatnonzero(bars.count == 1)
    wanted = {(events[bars.first[i]].rank, events[bars.first[i]].id) for i in single}
    waits = _waits(prof, wanted)
    bar_traces: list[dict] = []
    esc_names = [_esc(n) for n in names]
    esc_labels = [_esc(n) for n in lanes.labels]
    for c, name in enumerate(names):
        idx = np.flatnonzero(bars.cat == c)
        if not len(idx):
            continue
        k = len(idx)
        x = np.full(3 * k, np.nan)
        x[0::3] = bars.start[idx] / 1e9
        x[1::3] = bars.end[idx] / 1e9
        y = np.full(3 * k, np.nan)
        y[0::3] = bars.lane[idx]
        y[1::3] = bars.lane[idx]
        text: list[str | None] = [None] * (3 * k)
        for j, i in enumerate(idx):
            if bars.count[i] == 1:
                e = events[bars.first[i]]
                t = _hover(prof, e, waits.get((e.rank, e.id), []))
            else:
                t = _merged_hover(bars, i, esc_names, esc_labels)
            text[3 * j] = text[3 * j + 1] = t
        # a plain dict: plotly's validators would walk every hover string (seconds at 50k)
        bar_traces.append({
            "type": "scattergl", "x": x, "y": y, "text": text, "mode": "lines",
            "name": _esc(name), "legendgroup": _esc(name), "hoverinfo": "text",
            "connectgaps": False, "meta": "bars", "xaxis": "x", "yaxis": "y",
            "line": {"width": max(2, int(lane_px * 0.7)),
                     "color": _fmt.PALETTE[c % len(_fmt.PALETTE)]},
        })
    compiles = _compile_trace(prof, lanes, lane_px)
    _add_utilisation(fig, prof, lo, hi)
    fig.update_yaxes(row=1, col=1, tickmode="array", tickvals=list(range(nl)),
                     ticktext=lanes.labels, range=[nl - 0.5, -0.5], showgrid=False,
                     zeroline=False)
    fig.update_yaxes(row=2, col=1, title_text="busy %", range=[0, 105])
    fig.update_xaxes(row=2, col=1, title_text="time since start (s)")
    fig.update_layout(
        height=timeline_px + util_px + 160, template="plotly_white", hovermode="closest",
        margin={"l": 130, "r": 20, "t": 40, "b": 50}, legend_title_text="operation",
        title_text=f"{_esc(prof.script)}: {len(prof.tasks):,} tasks, "
                   f"{len(prof.copies):,} copies, {len(prof.ranks)} rank(s)",
        hoverlabel={"align": "left"},
    )
    figure = fig.to_dict()
    figure["data"] = bar_traces + compiles + figure["data"]
    facts = {"lanes": nl, "bars": len(bars.lane), "events": len(events),
             "quantum_ns": bars.quantum, "lane_labels": lanes.labels}
    return figure, facts


def _compile_trace(prof: Profile, lanes, lane_px: int) -> list[dict]:
    """The compile spans, drawn over the tasks they delay (never merged: one or a few
    per kernel)."""
    if not prof.compiles:
        return []
    k = len(prof.compiles)
    x, y = np.full(3 * k, np.nan), np.full(3 * k, np.nan)
    text: list[str | None] = [None] * (3 * k)
    for j, c in enumerate(prof.compiles):
        lane = lanes.index.get((c.rank, c.proc), lanes.index.get((c.rank, 0), 0))
        x[3 * j], x[3 * j + 1] = c.start / 1e9, c.end / 1e9
        y[3 * j] = y[3 * j + 1] = lane
        op = prof.ops.get(c.op)
        where = f"{_esc(op.name)} at {_esc(op.src)}" if op else "no operation"
        task = f"task {c.task}" if c.task >= 0 else "outside tasks"
        text[3 * j] = text[3 * j + 1] = (
            f"<b>numba compile</b> · rank {c.rank} · proc {c.proc}<br>"
            f"in {task} of {where}<br>"
            f"duration: {_fmt.fmt_ns(c.duration)} (start {c.start / 1e9:.6f} s)<br>"
            "not counted in the operation's time")
    return [{"type": "scattergl", "x": x, "y": y, "text": text, "mode": "lines",
             "name": "numba compile", "legendgroup": "compile", "hoverinfo": "text",
             "connectgaps": False, "meta": "compile", "xaxis": "x", "yaxis": "y",
             "line": {"width": max(2, int(lane_px * 0.35)), "color": COMPILE_COLOR}}]


def _add_utilisation(fig: go.Figure, prof: Profile, lo: float, hi: float) -> None:
    if hi <= lo:
        return
    edges = np.linspace(lo, hi, 401)
    mid = (edges[:-1] + edges[1:]) / 2e9
    ranks = prof.ranks
    utils = {r: 100 * utilisation(prof, r, edges) for r in ranks}
    if len(ranks) <= 16:
        series = [(f"rank {r} busy %", utils[r]) for r in ranks]
        series += [(f"rank {r} GPU busy %", 100 * utilisation(prof, r, edges, gpu=True))
                   for r in sorted({g.rank for g in prof.gpu})]
    else:
        stack = np.vstack(list(utils.values()))
        series = [("mean busy %", stack.mean(0)), ("min busy %", stack.min(0)),
                  ("max busy %", stack.max(0))]
    for name, u in series:
        fig.add_trace(go.Scatter(x=mid, y=u, mode="lines", line_shape="hv", name=name,
                                 legendgroup="utilisation", hoverinfo="x+y+name"),
                      row=2, col=1)


def op_table(prof: Profile) -> list[dict]:
    """Operations (by name) with count, total, mean time and bytes, largest total first."""
    n = len(prof.tasks)
    compiled = prof.compile_in_tasks()
    op = np.fromiter((t.op for t in prof.tasks), dtype=np.int64, count=n)
    dur = np.fromiter((max(0, t.end - t.start - compiled.get((t.rank, t.id), 0))
                       for t in prof.tasks), dtype=np.float64, count=n)
    nbytes = np.fromiter((t.bytes for t in prof.tasks), dtype=np.float64, count=n)
    ids, inv = np.unique(op, return_inverse=True)
    count = np.bincount(inv, minlength=len(ids))
    total = np.bincount(inv, weights=dur, minlength=len(ids))
    byts = np.bincount(inv, weights=nbytes, minlength=len(ids))
    acc: dict[str, dict] = {}
    for k, oid in enumerate(ids.tolist()):
        name = prof.op_name(oid)
        a = acc.setdefault(name, {"name": name, "count": 0, "total": 0.0, "bytes": 0.0,
                                  "src": {}})
        a["count"] += int(count[k])
        a["total"] += float(total[k])
        a["bytes"] += float(byts[k])
        o = prof.ops.get(oid)
        if o is not None and len(a["src"]) < 16:
            a["src"][o.src] = None
    if prof.compiles:  # its own row: the time is not the operations'
        ns = float(sum(c.duration for c in prof.compiles))
        acc["numba compile"] = {"name": "numba compile", "count": len(prof.compiles),
                                "total": ns, "bytes": 0.0,
                                "src": {"first tasks of compiled kernels": None}}
    busy = float(sum(a["total"] for a in acc.values()))
    rows = sorted(acc.values(), key=lambda a: -a["total"])
    for a in rows:
        a["mean"] = a["total"] / max(a["count"], 1)
        a["share"] = a["total"] / busy if busy else 0.0
        a["src"] = list(a["src"])
    return rows


def _table_html(rows: list[dict]) -> str:
    head = ("<tr><th>operation</th><th>source</th><th>tasks</th><th>total</th>"
            "<th>mean</th><th>% of busy</th><th>bytes</th></tr>")
    body = "".join(
        f"<tr><td>{_esc(a['name'])}</td><td>{_esc(source_span(a['src']))}</td>"
        f"<td>{a['count']:,}</td><td>{_fmt.fmt_ns(a['total'])}</td>"
        f"<td>{_fmt.fmt_ns(a['mean'])}</td><td>{100 * a['share']:.1f}</td>"
        f"<td>{_fmt.fmt_bytes(a['bytes'])}</td></tr>"
        for a in rows
    )
    return f'<table id="hpc-ops">{head}{body}</table>'


# Runs after plotly has drawn: records what was drawn (used by the browser tests).
_POST = """
var gd = document.getElementById('{plot_id}');
var bars = 0, lanes = {};
gd._fullData.forEach(function (tr) {
  if (tr.meta !== 'bars') return;
  var x = tr.x, y = tr.y;
  for (var i = 0; i + 1 < x.length; i += 3) {
    if (x[i] !== null && isFinite(x[i])) { bars++; lanes[y[i]] = 1; }
  }
});
var ticks = gd.querySelectorAll('.yaxislayer-above .ytick').length;
var st = document.getElementById('hpc-status');
st.setAttribute('data-bars', bars);
st.setAttribute('data-lanes-used', Object.keys(lanes).length);
st.setAttribute('data-lane-ticks', ticks);
st.setAttribute('data-gl', gd.querySelectorAll('canvas').length);
st.setAttribute('data-draw-ms', Math.round(performance.now()));
st.setAttribute('data-drawn', '1');
"""

_STYLE = """body{font-family:sans-serif;margin:12px}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,td:nth-child(2),
th{text-align:left}.meta{color:#555;font-size:13px}"""


def render_timeline(prof: Profile, out: str | Path, *, max_bars: int = 50_000) -> Path:
    """Write the self-contained timeline HTML (plotly.js inline) and return its path."""
    out = Path(out)
    fig, facts = build_figure(prof, max_bars=max_bars)
    div = pio.to_html(fig, validate=False, full_html=False, include_plotlyjs=True,
                      div_id="hpc-timeline", post_script=_POST,
                      config={"scrollZoom": True, "displaylogo": False})
    note = ""
    if facts["quantum_ns"]:
        note = (f" Showing {facts['bars']:,} bars for {facts['events']:,} tasks and copies: "
                f"consecutive bars shorter than {_fmt.fmt_ns(facts['quantum_ns'])} are merged "
                "per lane (hover a bar for a summary; re-render a window with "
                "<code>hpcarray profile DIR --start S --end S</code> to see each one).")
    head = (f"{_esc(prof.script)} · ranks {', '.join(map(str, prof.ranks))} · "
            f"{len(prof.tasks):,} tasks · {len(prof.copies):,} copies.{note}")
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>hpcarray timeline: {_esc(prof.script)}</title><style>{_STYLE}</style>"
        f"</head><body><p class=\"meta\">{head} Drag to zoom, double-click to reset, "
        "shift-drag or scroll to pan and zoom.</p>"
        f"<div id=\"hpc-status\" data-drawn=\"0\" data-expected-bars=\"{facts['bars']}\" "
        f"data-lanes=\"{facts['lanes']}\"></div>\n{div}\n"
        f"<h3>Operations by total time</h3>{_table_html(op_table(prof))}</body></html>\n"
    )
    out.write_text(page, encoding="utf-8")
    return out
