"""render_all: everything the runtime writes at program exit, from a profile directory."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from .summary import summarize
from .trace_reader import load_profile

TIMELINE_NAME = "timeline.html"


def render_all(
    profile_dir: str | Path,
    *,
    timeline: bool = True,
    dataflow: bool = False,
    event: bool = False,
    script_name: str | None = None,
    pdf: bool = True,
    start: float | None = None,
    end: float | None = None,
    ranks: Iterable[int] | None = None,
    max_bars: int = 50_000,
) -> str:
    """Read ``trace.*.jsonl`` in ``profile_dir``, write the requested files next to them and
    return the summary text (which says where they are and how to get missing PDFs).

    Raises :class:`hpcarray.profiling.trace_reader.TraceError` for an unreadable profile;
    prints the warnings of one read with doubts (a trace cut short) to stderr.
    """
    d = Path(profile_dir)
    prof = load_profile(d, start=start, end=end, ranks=ranks)
    for w in prof.warnings:  # a rank's trace cut short: render what was read, and say so
        print(f"hpcarray profile: warning: {w}", file=sys.stderr)
    html_path = None
    if timeline:
        from .timeline import render_timeline

        html_path = render_timeline(prof, d / TIMELINE_NAME, max_bars=max_bars)
    graphs: list[Path] = []
    notes: list[str] = []
    if dataflow:
        from .dataflow import render_dataflow

        files = render_dataflow(prof, d, pdf=pdf, script_name=script_name)
        graphs.append(files.pdf or files.dot)
        if files.message:
            notes.append(files.message)
    if event:
        from .event_graph import render_event_graph

        files = render_event_graph(prof, d, pdf=pdf, script_name=script_name)
        graphs.append(files.pdf or files.dot)
        if files.message:
            notes.append(files.message)
    text = summarize(prof, html_path=html_path, extra_files=graphs)
    seen = set()
    for n in notes:  # the same hint for both graphs once
        key = n.split(";")[0] if "not found" in n else n
        if key not in seen:
            seen.add(key)
            text += "\n  note: " + n
    return text
