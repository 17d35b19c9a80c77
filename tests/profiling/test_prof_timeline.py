"""timeline.html: lanes, bars, aggregation, escaping; drawn in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hpcarray.profiling.render import render_all
from hpcarray.profiling.timeline import build_figure, op_table, render_timeline
from hpcarray.profiling.trace_reader import load_profile
from prof_helpers import dump_dom, status_attrs
from prof_synth import make_big, make_chain_join

HOSTILE = "<script>alert(1)</script>"


def test_two_rank_lanes_and_bars(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=2, workers=2)
    fig, facts = build_figure(load_profile(tmp_path))
    assert facts["lane_labels"] == ["rank 0 · proc 0", "rank 0 · proc 1", "rank 0 · comm",
                                    "rank 1 · proc 0", "rank 1 · proc 1", "rank 1 · comm"]
    assert facts["bars"] == facts["events"] == 20 + 4 and facts["quantum_ns"] == 0
    bar_traces = [t for t in fig["data"] if t.get("meta") == "bars"]
    assert {t["name"] for t in bar_traces} == {"fill_a", "scale_a", "fill_b", "scale_b",
                                            "join_add", "copy: halo"}
    halo = next(t for t in bar_traces if t["name"] == "copy: halo")
    assert sorted(set(halo["y"][0::3])) == [2.0, 5.0]  # the comm lanes of both ranks
    hover = next(t for t in bar_traces if t["name"] == "join_add")["text"][0]
    assert "prog.py:7" in hover and "tile: [" in hover and "bytes:" in hover
    assert "duration:" in hover and "waited on:" in hover and "RAW ← scale_a" in hover
    assert "copy ← halo recv" in hover  # the join waited for the halo
    utils = [t for t in fig["data"] if t.get("legendgroup") == "utilisation"]
    assert [t["name"] for t in utils] == ["rank 0 busy %", "rank 1 busy %"]


def test_one_rank_has_no_comm_lane(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=1, workers=2)
    _, facts = build_figure(load_profile(tmp_path))
    assert facts["lane_labels"] == ["rank 0 · proc 0", "rank 0 · proc 1"]


def test_op_table(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=1, workers=2)
    rows = op_table(load_profile(tmp_path))
    assert [r["count"] for r in rows] == [2] * 5
    assert abs(sum(r["share"] for r in rows) - 1) < 1e-9


def test_merges_bars_beyond_limit(tmp_path: Path) -> None:
    make_big(tmp_path, 20_000, nranks=2, workers=4)
    prof = load_profile(tmp_path)
    fig, facts = build_figure(prof, max_bars=2_000)
    assert facts["events"] == 20_000 and facts["bars"] <= 2_000 and facts["quantum_ns"] > 0
    texts = [s for t in fig["data"] if t.get("meta") == "bars" for s in t["text"] if s]
    assert any("events merged" in s and "ops by time:" in s for s in texts)


def test_html_escapes_user_strings(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=2, op_names={5: HOSTILE, 2: "a&b"}, src_override=HOSTILE)
    out = render_timeline(load_profile(tmp_path), tmp_path / "timeline.html")
    page = out.read_text()
    assert HOSTILE not in page and "alert(1)</script>" not in page
    table = page[page.index('<table id="hpc-ops">'):]
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in table
    assert "<td>a&amp;b</td>" in table
    # in the plot data the names and sources are escaped too (JSON may escape '&' again)
    assert "&lt;script&gt;alert(1)" in page or "\\u0026lt;script\\u0026gt;" in page


@pytest.mark.browser
def test_plotly_text_is_escaped_once(tmp_path: Path, chromium: str) -> None:
    """Quotes in the script's name and op names read as quotes in the drawn title and
    legend (plotly shows &quot; as it is); markup stays text."""
    from prof_synth import TraceWriter

    w = TraceWriter(tmp_path, 0, 1, 1, script='say "hi" & <b>x</b>.py')
    w.op(1, 'it\'s "q"', "x.py:1", [], [[1, 1]])
    w.task(1, 0, 0, 1000, [[0, 1]])
    w.close()
    out = render_timeline(load_profile(tmp_path), tmp_path / "timeline.html")
    dom, _ = dump_dom(chromium, out)
    assert "&amp;quot;" not in dom and "&amp;#x27;" not in dom
    title = re.search(r'<text class="gtitle"[^>]*>(.*?)</text>', dom).group(1)
    assert title.startswith('say "hi" &amp; &lt;b&gt;x&lt;/b&gt;.py: 1 tasks'), title
    legend = re.findall(r'<text class="legendtext"[^>]*>(.*?)</text>', dom)
    assert 'it\'s "q"' in legend, legend


def test_render_all_returns_summary(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=2)
    text = render_all(tmp_path, timeline=True, dataflow=True, event=True, pdf=False)
    assert (tmp_path / "timeline.html").exists()
    assert (tmp_path / "dataflow_prog.dot").exists()
    assert (tmp_path / "event_graph_prog.dot").exists()
    assert "wall time" in text and "busy" in text and "join_add" in text
    assert "communicated" in text and str(tmp_path / "timeline.html") in text


@pytest.mark.browser
def test_timeline_draws_in_chromium(tmp_path: Path, chromium: str) -> None:
    make_chain_join(tmp_path, nranks=2, workers=3, op_names={5: HOSTILE},
                    src_override=HOSTILE)
    out = render_timeline(load_profile(tmp_path), tmp_path / "timeline.html")
    dom, _ = dump_dom(chromium, out)
    st = status_attrs(dom)
    assert st["drawn"] == "1", st
    assert int(st["bars"]) == 2 * 5 * 3 + 4  # every task and copy is a bar
    assert int(st["lane-ticks"]) == 2 * (3 + 1)  # rank x proc lanes plus a comm lane each
    assert int(st["lanes-used"]) == 8
    assert int(st["gl"]) >= 1  # drawn with WebGL
    # the hostile name became text, never an element: only our own scripts are in the page
    assert HOSTILE not in dom
    assert len(re.findall(r"<script", dom)) == len(re.findall(r"<script", out.read_text()))


@pytest.mark.browser
def test_merged_timeline_draws_in_chromium(tmp_path: Path, chromium: str) -> None:
    make_big(tmp_path, 30_000, nranks=2, workers=4)
    out = render_timeline(load_profile(tmp_path), tmp_path / "timeline.html", max_bars=5_000)
    dom, _ = dump_dom(chromium, out)
    st = status_attrs(dom)
    assert st["drawn"] == "1" and int(st["bars"]) == int(st["expected-bars"]) <= 5_000
    assert int(st["lane-ticks"]) == 2 * 4  # no copies: no comm lanes


def test_empty_and_single_task_profiles(tmp_path: Path) -> None:
    from prof_synth import TraceWriter

    empty = tmp_path / "empty"
    TraceWriter(empty, 0, 1, 2).close()
    text = render_all(empty, dataflow=True, event=True, pdf=False)
    assert "0 tasks" in text and (empty / "timeline.html").exists()
    one = tmp_path / "one"
    w = TraceWriter(one, 0, 1, 1)
    w.op(1, "add", "x.py:1", [], [[1, 1]])
    w.task(1, 0, 0, 0, [[0, 1]])  # zero duration
    w.close()
    assert "add" in render_all(one, dataflow=True, event=True, pdf=False)


def _gpu_profile(tmp_path: Path) -> None:
    """Two ranks of three tasks; rank 0's ran on its GPU (a "gpu" record each)."""
    from prof_synth import TraceWriter

    for rank in (0, 1):
        w = TraceWriter(tmp_path, rank, 2, 1)
        w.op(1, "add", "x.py:1", [], [[1, 1]])
        for k in range(3):
            tid = w.task(1, 0, k * 1000, k * 1000 + 500, [[0, 1]])
            if rank == 0:  # rank 1 ran on the host
                w.write(type="gpu", task=tid, op=1, start=k * 1000 + 400, end=k * 1000 + 900)
        w.close()


def test_gpu_spans_get_a_lane_of_their_rank(tmp_path: Path) -> None:
    """"gpu" records (a task's span on its rank's GPU) are bars on a GPU lane after the
    rank's processors, coloured as their operation; a window keeps those it overlaps."""
    from hpcarray.profiling.trace_reader import GPU_PROC, filter_profile

    _gpu_profile(tmp_path)
    prof = load_profile(tmp_path)
    assert [(g.rank, g.proc, g.start) for g in prof.gpu] == [(0, GPU_PROC, 400),
                                                             (0, GPU_PROC, 1400),
                                                             (0, GPU_PROC, 2400)]
    assert prof.span() == (0, 2900)
    fig, facts = build_figure(prof)
    assert facts["lane_labels"] == ["rank 0 · proc 0", "rank 0 · GPU", "rank 1 · proc 0"]
    add = next(t for t in fig["data"] if t.get("meta") == "bars" and t["name"] == "add")
    assert sorted(add["y"][0::3]).count(1.0) == 3  # the GPU lane
    assert any("on the GPU" in (s or "") for s in add["text"])
    assert len(filter_profile(prof, start=1.2e-6, end=1.5e-6).gpu) == 1


@pytest.mark.browser
def test_gpu_lane_draws_in_chromium(tmp_path: Path, chromium: str) -> None:
    _gpu_profile(tmp_path)
    out = render_timeline(load_profile(tmp_path), tmp_path / "timeline.html")
    st = status_attrs(dump_dom(chromium, out)[0])
    assert st["drawn"] == "1", st
    assert int(st["bars"]) == 2 * 3 + 3 and int(st["lane-ticks"]) == 3  # tasks, GPU spans
    assert int(st["lanes-used"]) == 3
