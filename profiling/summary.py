"""A short text summary of a profile: wall time, busy fraction, top ops, communication."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from . import _fmt
from .trace_reader import Profile


def wall_ns(prof: Profile) -> int:
    """Wall time of the run on the global axis: the last end record or the last event."""
    lo, hi = prof.span()
    ends = [v for v in prof.end_ns.values() if v > 0]
    return max([hi, *ends]) if (ends or hi) else 0


def busy_fractions(prof: Profile) -> dict[int, float]:
    """Per rank: summed task time / (workers x the rank's wall time)."""
    busy: Counter[int] = Counter()
    procs: dict[int, set[int]] = {}
    for t in prof.tasks:
        busy[t.rank] += t.duration
        procs.setdefault(t.rank, set()).add(t.proc)
    wall = max(wall_ns(prof), 1)
    out = {}
    for r in prof.ranks:
        workers = max(prof.workers(r), len(procs.get(r, ())), 1)
        out[r] = busy[r] / (workers * wall)
    return out


def summarize(prof: Profile, *, html_path: str | Path | None = None,
              extra_files: list[Path] | None = None, top: int = 10) -> str:
    """The summary text printed at program exit and by ``hpcarray profile``."""
    wall = wall_ns(prof)
    lines = [f"hpcarray profile of {prof.script}: {len(prof.ranks)} rank(s), "
             f"{len(prof.tasks):,} tasks, {len(prof.copies):,} copies"]
    lines.append(f"  wall time     {_fmt.fmt_ns(wall)}")
    fr = busy_fractions(prof)
    shown = list(fr.items())[:16]
    busy = ", ".join(f"r{r} {100 * f:.0f}%" for r, f in shown)
    if len(fr) > 16:
        vals = list(fr.values())
        busy += f", … (min {100 * min(vals):.0f}%, max {100 * max(vals):.0f}%)"
    lines.append(f"  busy          {busy}")
    if prof.gpu:
        on_gpu: Counter[int] = Counter()
        for g in prof.gpu:
            on_gpu[g.rank] += g.duration
        text = ", ".join(f"r{r} {100 * ns / max(wall, 1):.0f}%"
                         for r, ns in sorted(on_gpu.items())[:16])
        lines.append(f"  GPU busy      {text} (tasks' spans from CUDA events)")
    per_op: Counter[str] = Counter()
    count: Counter[str] = Counter()
    src: dict[str, str] = {}
    compiled = prof.compile_in_tasks()
    for t in prof.tasks:
        name = prof.op_name(t.op)
        per_op[name] += max(0, t.duration - compiled.get((t.rank, t.id), 0))
        count[name] += 1
        if name not in src and t.op in prof.ops:
            src[name] = prof.ops[t.op].src
    total = sum(per_op.values()) or 1
    if per_op:
        lines.append(f"  top {min(top, len(per_op))} operations by task time:")
        for name, ns in per_op.most_common(top):
            lines.append(f"    {_fmt.fmt_ns(ns):>10}  {100 * ns / total:5.1f}%  "
                         f"{count[name]:>8,} tasks  {_fmt.short_name(name, 40)}  "
                         f"({src.get(name, '?')[:60]})")
    if prof.compiles:
        ns = sum(c.duration for c in prof.compiles)
        nops = len({c.op for c in prof.compiles})
        lines.append(f"  compile       {_fmt.fmt_ns(ns)} (numba import and compile, first tasks "
                     f"of {nops} operation(s); not in their time above)")
    sent = sum(c.bytes for c in prof.copies if c.side != "recv")
    kinds: Counter[str] = Counter()
    for c in prof.copies:
        if c.side != "recv":
            kinds[c.kind] += c.bytes
    detail = ", ".join(f"{k} {_fmt.fmt_bytes(v)}" for k, v in kinds.most_common())
    lines.append(f"  communicated  {_fmt.fmt_bytes(sent)}" + (f" ({detail})" if detail else ""))
    if html_path:
        lines.append(f"  timeline      {html_path}")
    for p in extra_files or []:
        lines.append(f"  graph         {p}")
    return "\n".join(lines)
