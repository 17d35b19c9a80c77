"""Bars for the timeline: lanes, categories, aggregation of what a pixel cannot show.

Columns are NumPy arrays so that a million tasks are handled in a second or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace_reader import GPU_PROC, Profile, Task

MAX_CATEGORIES = 24  # colours with their own legend entry; the rest become "other ops"


@dataclass
class Lanes:
    labels: list[str]  # top to bottom
    index: dict[tuple[int, int], int]  # (rank, proc) -> lane; proc -1 = the comm lane,
    # GPU_PROC its GPU's (comm lanes only where the profile has copies; GPU lanes only for
    # ranks whose tasks ran on a GPU)


@dataclass
class Bars:
    """One row per drawn bar (individual or merged)."""

    lane: np.ndarray  # int
    start: np.ndarray  # float64 ns
    end: np.ndarray  # float64 ns
    cat: np.ndarray  # int category
    count: np.ndarray  # events merged into this bar (1 = an individual task or copy)
    busy: np.ndarray  # summed duration of the merged events, ns
    first: np.ndarray  # index into the event list of the first event of the bar
    top: list[list[tuple[int, float]]] | None  # per merged bar: [(cat, ns)] largest first
    quantum: float  # ns below which bars were merged (0 = nothing merged)


def build_lanes(prof: Profile) -> Lanes:
    procs: dict[int, set[int]] = {r: set(range(prof.workers(r))) for r in prof.ranks}
    for t in prof.tasks:
        procs.setdefault(t.rank, set()).add(t.proc)
    comm = bool(prof.copies)  # a run without messages (one rank) has no comm lanes
    gpus = {r: h.gpu for r, h in prof.headers.items() if h.gpu is not None}
    for g in prof.gpu:
        gpus.setdefault(g.rank, -1)
    labels, index = [], {}
    for r in sorted(procs):
        for p in sorted(procs[r]):
            index[(r, p)] = len(labels)
            labels.append(f"rank {r} · proc {p}")
        if r in gpus:
            index[(r, GPU_PROC)] = len(labels)
            labels.append(f"rank {r} · GPU {gpus[r]}" if gpus[r] >= 0 else f"rank {r} · GPU")
        if comm:
            index[(r, -1)] = len(labels)
            labels.append(f"rank {r} · comm")
    return Lanes(labels, index)


def categories(prof: Profile, events: list[Task]) -> tuple[list[str], np.ndarray]:
    """Colour category per event: op name for tasks, 'copy: <kind>' for copies."""
    code_of: dict[object, int] = {}
    setdefault = code_of.setdefault
    inv = np.fromiter(
        (setdefault(("copy", e.kind) if e.is_copy else e.op, len(code_of)) for e in events),
        dtype=np.int64, count=len(events),
    )
    by_name: dict[str, int] = {}  # ops sharing a name share a colour
    remap = np.zeros(len(code_of), dtype=np.int64)
    for key, code in code_of.items():
        if isinstance(key, tuple):
            name = "copy: " + (key[1] or "?")
        else:
            name = prof.op_name(key)  # type: ignore[arg-type]
        remap[code] = by_name.setdefault(name, len(by_name))
    uniq = list(by_name)
    inv = remap[inv]
    dur = np.fromiter((e.end - e.start for e in events), dtype=np.float64, count=len(events))
    total = np.bincount(inv, weights=dur, minlength=len(uniq))
    order = np.argsort(-total, kind="stable")
    names = [str(uniq[i]) for i in order]
    rank_of = np.empty(len(uniq), dtype=np.int64)
    rank_of[order] = np.arange(len(uniq))
    cat = rank_of[inv] if len(events) else np.zeros(0, dtype=np.int64)
    if len(names) > MAX_CATEGORIES:
        names = names[: MAX_CATEGORIES - 1] + ["other ops"]
        cat = np.minimum(cat, MAX_CATEGORIES - 1)
    return names, cat.astype(np.int64)


def build_bars(events: list[Task], lanes: Lanes, cat: np.ndarray, ncat: int,
               max_bars: int = 50_000, span: tuple[float, float] | None = None) -> Bars:
    """Individual bars, or, beyond ``max_bars``, consecutive short bars merged per lane."""
    n = len(events)
    lane = np.fromiter((lanes.index[(e.rank, -1 if e.is_copy else e.proc)] for e in events),
                       dtype=np.int64, count=n)
    start = np.fromiter((e.start for e in events), dtype=np.float64, count=n)
    end = np.fromiter((e.end for e in events), dtype=np.float64, count=n)
    order = np.lexsort((start, lane))
    lane, start, end, cat = lane[order], start[order], end[order], cat[order]
    dur = end - start
    if n <= max_bars:
        ones = np.ones(n, dtype=np.int64)
        return Bars(lane, start, end, cat, ones, dur, order, None, 0.0)
    lo, hi = span if span else (float(start.min()), float(end.max()))
    nlanes = max(1, len(lanes.labels))
    bins = max(16, max_bars // nlanes)
    while True:
        quantum = max(1.0, (hi - lo) / bins)
        gid, ngroups = _group(lane, start, dur, quantum, lo)
        if ngroups <= max_bars or bins <= 16:
            break
        bins //= 2
    heads = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    count = np.diff(np.r_[heads, n])
    g_end = np.maximum.reduceat(end, heads)
    busy = np.add.reduceat(dur, heads)
    per_cat = np.bincount(gid * ncat + cat, weights=dur, minlength=ngroups * ncat)
    per_cat = per_cat.reshape(ngroups, ncat)
    dominant = per_cat.argmax(axis=1)
    merged = np.flatnonzero(count > 1)
    top: list[list[tuple[int, float]]] = [[] for _ in range(ngroups)]
    if len(merged):
        best = np.argsort(-per_cat[merged], axis=1)[:, :3]
        vals = np.take_along_axis(per_cat[merged], best, axis=1)
        for g, cs, vs in zip(merged.tolist(), best.tolist(), vals.tolist()):
            top[g] = [(c, v) for c, v in zip(cs, vs) if v > 0]
    return Bars(lane[heads], start[heads], g_end, dominant, count, busy, order[heads], top,
                quantum)


def _group(lane: np.ndarray, start: np.ndarray, dur: np.ndarray, quantum: float,
           lo: float) -> tuple[np.ndarray, int]:
    """Group ids: a bar shorter than ``quantum`` joins its predecessor in the same lane and
    time bin when that one is short too; long bars stay alone."""
    tiny = dur < quantum
    b = np.floor((start - lo) / quantum).astype(np.int64)
    same = np.zeros(len(lane), dtype=bool)
    same[1:] = tiny[1:] & tiny[:-1] & (lane[1:] == lane[:-1]) & (b[1:] == b[:-1])
    gid = np.cumsum(~same) - 1
    return gid, int(gid[-1]) + 1 if len(gid) else 0


def utilisation(prof: Profile, rank: int, edges: np.ndarray, gpu: bool = False) -> np.ndarray:
    """Busy fraction of the rank's workers (``gpu``: of its GPU, from the tasks' GPU spans)
    in each interval between ``edges`` (ns)."""
    ts = [t for t in (prof.gpu if gpu else prof.tasks) if t.rank == rank]
    nbin = len(edges) - 1
    if not ts or nbin <= 0:
        return np.zeros(max(nbin, 0))
    s = np.fromiter((t.start for t in ts), dtype=np.float64, count=len(ts))
    e = np.fromiter((t.end for t in ts), dtype=np.float64, count=len(ts))
    times = np.concatenate([s, e])
    delta = np.concatenate([np.ones_like(s), -np.ones_like(e)])
    o = np.argsort(times, kind="stable")
    times, delta = times[o], delta[o]
    level = np.cumsum(delta)  # busy workers right after each event time
    area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(times))])  # integral at times
    at_edges = np.interp(edges, times, area, left=0.0, right=float(area[-1]))
    width = np.diff(edges)
    workers = 1 if gpu else max(1, prof.workers(rank), len({t.proc for t in ts}))
    return np.clip(np.diff(at_edges) / (width * workers), 0.0, 1.0)
