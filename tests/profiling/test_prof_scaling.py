"""A million tasks: timeline.html under 100 MB, drawn by Chromium in under 10 s.

Slow (about a minute): run with HPCARRAY_RUN_SLOW=1.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hpcarray.profiling.timeline import render_timeline
from hpcarray.profiling.trace_reader import load_profile
from prof_helpers import dump_dom, status_attrs
from prof_synth import make_big

N = 1_000_000


@pytest.mark.slow
@pytest.mark.browser
def test_million_tasks(tmp_path: Path, chromium: str) -> None:
    t = time.perf_counter()
    make_big(tmp_path, N, nranks=4, workers=8)
    t_gen = time.perf_counter() - t
    t = time.perf_counter()
    prof = load_profile(tmp_path)
    t_load = time.perf_counter() - t
    assert len(prof.tasks) == N
    t = time.perf_counter()
    out = render_timeline(prof, tmp_path / "timeline.html")
    t_render = time.perf_counter() - t
    size_mb = out.stat().st_size / 1e6
    dom, wall = dump_dom(chromium, out, timeout=300)
    st = status_attrs(dom)
    draw_s = int(st["draw-ms"]) / 1000
    print(f"\n1M tasks: generate {t_gen:.1f} s, load {t_load:.1f} s, render {t_render:.1f} s, "
          f"html {size_mb:.1f} MB, bars {st['bars']}, Chromium draw {draw_s:.1f} s "
          f"(process wall {wall:.1f} s)")
    assert st["drawn"] == "1" and int(st["bars"]) == int(st["expected-bars"]) <= 50_000
    assert int(st["lane-ticks"]) == 4 * (8 + 1)
    assert size_mb < 100
    assert draw_s < 10
