"""Dataflow and event graphs: .dot contents for a known program, PDFs rendered by dot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hpcarray.profiling import _graphviz
from hpcarray.profiling.dataflow import find_loop, render_dataflow
from hpcarray.profiling.event_graph import match_messages, render_event_graph
from hpcarray.profiling.trace_reader import load_profile
from prof_helpers import pdf_pages
from prof_synth import make_chain_join, make_stencil

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz dot not found (apt-get install graphviz)")

EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", re.M)


def edges(dot: str) -> dict[tuple[str, str], str]:
    return {(a, b): attrs or "" for a, b, attrs in EDGE.findall(dot)}


def node_ids(dot: str) -> set[str]:
    return set(re.findall(r"^\s*(\w+) \[label=", dot, re.M))


def test_dataflow_two_chains_and_a_join(tmp_path: Path) -> None:
    make_chain_join(tmp_path)
    files = render_dataflow(load_profile(tmp_path), tmp_path, pdf=False)
    assert files.dot.name == "dataflow_prog.dot" and files.pdf is None
    dot = files.dot.read_text()
    assert node_ids(dot) == {"op1", "op2", "op3", "op4", "op5",
                             "s1v1", "s1v2", "s2v1", "s2v2", "s3v1"}
    assert set(edges(dot)) == {
        ("op1", "s1v1"), ("s1v1", "op2"), ("op2", "s1v2"),  # chain a
        ("op3", "s2v1"), ("s2v1", "op4"), ("op4", "s2v2"),  # chain b
        ("s1v2", "op5"), ("s2v2", "op5"), ("op5", "s3v1"),  # the join
    }
    assert "scale_a" in dot and "prog.py:4" in dot and "a v2" in dot and "100×100 float64" in dot
    assert "cluster_loop" not in dot  # nothing repeats


def test_dataflow_folds_loop_iterations(tmp_path: Path) -> None:
    make_stencil(tmp_path, iters=5)
    dot = render_dataflow(load_profile(tmp_path), tmp_path, pdf=False).dot.read_text()
    assert "×5 iterations (3 ops each)" in dot
    assert dot.count("<B>add</B>") == 1 and dot.count("<B>multiply</B>") == 1
    carried = [e for e, a in edges(dot).items() if "next iteration" in a]
    assert ("s1v2", "op2") in carried  # the next add reads the grid the copy wrote
    assert ("s1v2", "op17") in edges(dot)  # the sum after the loop reads the last grid
    assert "grid v2…v6" in dot


def test_find_loop() -> None:
    keys = list("xy") + list("abc") * 4 + list("z")
    loop = find_loop(keys)
    assert loop is not None and (loop.start, loop.period, loop.count) == (2, 3, 4)
    assert find_loop(list("abcdef")) is None


def test_event_graph_two_ranks(tmp_path: Path) -> None:
    written = make_chain_join(tmp_path, nranks=2, workers=2)
    prof = load_profile(tmp_path)
    dot = render_event_graph(prof, tmp_path, pdf=False).dot.read_text()
    for r in (0, 1):
        for p in (0, 1):
            assert f"subgraph cluster_r{r}_p{p} " in dot
        assert f"subgraph cluster_r{r}_comm " in dot
        for tid in written["tasks"][r].values():
            assert f"r{r}_{tid} [label=" in dot
    e = edges(dot)
    for r in (0, 1):
        for a, b, kind in written["edges"][r]:
            assert (f"r{r}_{a}", f"r{r}_{b}") in e, (r, a, b, kind)
    waw = [k for k, a in e.items() if "dotted" in a and not k[0].startswith("legend")]
    assert len(waw) == 4
    # messages: rank 0's send (tag 100) -> rank 1's recv, and rank 1's send -> rank 0's recv
    s0, r0 = written["copies"][0]
    s1, r1 = written["copies"][1]
    msgs = {k for k, a in e.items() if "#d62728" in a and not k[0].startswith("legend")}
    assert msgs == {(f"r0_{s0}", f"r1_{r1}"), (f"r1_{s1}", f"r0_{r0}")}
    assert len(match_messages(prof.copies)) == 2
    assert "subgraph cluster_legend" in dot and "message send → recv" in dot


@needs_dot
def test_pdfs_have_pages(tmp_path: Path) -> None:
    make_stencil(tmp_path, iters=3, nranks=2)
    prof = load_profile(tmp_path)
    df = render_dataflow(prof, tmp_path)
    ev = render_event_graph(prof, tmp_path)
    assert df.message is None and ev.message is None
    assert df.pdf == tmp_path / "dataflow_stencil.pdf"
    assert ev.pdf == tmp_path / "event_graph_stencil.pdf"
    assert pdf_pages(df.pdf) >= 1 and pdf_pages(ev.pdf) >= 1


def test_without_dot_still_writes_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_chain_join(tmp_path)
    monkeypatch.setattr(_graphviz.shutil, "which", lambda name: None)
    files = render_event_graph(load_profile(tmp_path), tmp_path)
    assert files.dot.exists() and files.pdf is None
    assert "apt-get install graphviz" in (files.message or "")
    assert f"dot -Tpdf {files.dot}" in (files.message or "")


def test_hostile_names_in_graphs(tmp_path: Path) -> None:
    bad = '<script>alert(1)</script>"\\'
    make_chain_join(tmp_path, op_names={5: bad}, src_override=bad)
    prof = load_profile(tmp_path)
    for files in (render_dataflow(prof, tmp_path, pdf=False),
                  render_event_graph(prof, tmp_path, pdf=False)):
        dot = files.dot.read_text()
        assert "<script>" not in dot and "&lt;script&gt;" in dot
        if shutil.which("dot"):
            import subprocess

            subprocess.run(["dot", "-Tsvg", str(files.dot), "-o", str(files.dot) + ".svg"],
                           check=True, capture_output=True)


def test_event_graph_is_capped(tmp_path: Path) -> None:
    make_stencil(tmp_path, iters=20)
    prof = load_profile(tmp_path)
    dot = render_event_graph(prof, tmp_path, pdf=False, max_nodes=10).dot.read_text()
    assert len(re.findall(r"^\s*r0_\d+ \[label=", dot, re.M)) == 10
    assert f"… {len(prof.tasks) - 10} more tasks/copies not drawn" in dot


def test_transitive_edges() -> None:
    from hpcarray.profiling.event_graph import transitive_edges

    assert transitive_edges([("a", "b"), ("b", "c"), ("a", "c")]) == {("a", "c")}
    assert transitive_edges([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]) == set()
    long = [(f"n{i}", f"n{i + 1}") for i in range(5)] + [("n0", "n5"), ("n1", "n4")]
    assert transitive_edges(long) == {("n0", "n5"), ("n1", "n4")}


def test_event_graph_drops_implied_edges(tmp_path: Path) -> None:
    from prof_synth import TraceWriter

    w = TraceWriter(tmp_path, 0, 1, 1)
    w.op(1, "add", "x.py:1", [], [[1, 1]])
    a, b, c = (w.task(1, 0, 10 * i, 10 * i + 5, [[0, 1]]) for i in range(3))
    w.edge(a, b)
    w.edge(b, c)
    w.edge(a, c, "WAR")  # implied by a -> b -> c
    w.close()
    dot = render_event_graph(load_profile(tmp_path), tmp_path, pdf=False).dot.read_text()
    e = edges(dot)
    assert (f"r0_{a}", f"r0_{b}") in e and (f"r0_{b}", f"r0_{c}") in e
    assert (f"r0_{a}", f"r0_{c}") not in e
    assert "1 dependences implied by longer paths not drawn" in dot


def test_dot_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import time

    import graphviz

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!/bin/sh\nexec sleep 30\n")
    (fake / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    t = time.perf_counter()
    files = _graphviz.write_graph(graphviz.Digraph("g"), tmp_path, "slow", timeout=0.5)
    assert time.perf_counter() - t < 10
    assert files.pdf is None and files.dot.exists() and "took over" in (files.message or "")


def test_long_names_keep_their_end(tmp_path: Path) -> None:
    """A fused kernel's halo copy is told apart by its last word: shortened labels cut the
    member list, not ' halo' (summary, dataflow and event graph)."""
    from hpcarray.profiling.render import render_all

    name = "fused(add,add,add,add,multiply,assign) halo"
    make_chain_join(tmp_path, nranks=1, op_names={5: name})
    text = render_all(tmp_path, dataflow=True, event=True, pdf=False)
    row = next(ln for ln in text.splitlines() if "fused(" in ln)
    assert ") halo" in row, row
    for dot in ("dataflow_prog.dot", "event_graph_prog.dot"):
        labels = re.findall(r"<B>(fused\(.*?)</B>", (tmp_path / dot).read_text())
        assert labels and all(lb.endswith(") halo") for lb in labels), (dot, labels)


def test_dataflow_does_not_fold_unrelated_ops_of_one_line(tmp_path: Path) -> None:
    """`report(np.sum(a)); report(np.sum(b))` through a helper: two sums with one source
    line, of unrelated arrays, are not '×2 iterations'; the same sums in a loop over one
    array (or over temporaries the iteration makes) are."""
    from prof_synth import TraceWriter

    def write(directory: Path, reads: list) -> str:
        w = TraceWriter(directory, 0, 1, 1)
        for sid, name in ((1, "a"), (2, "b")):
            w.store(sid, [10], name)
        w.op(1, "multiply", "prog.py:3", [], [[1, 1]])
        w.op(2, "add", "prog.py:4", [], [[2, 1]])
        for k, read in enumerate(reads):
            w.op(3 + k, "add.reduce", "_common.py:99", [read], [[10 + k, 1]])
        w.close()
        return render_dataflow(load_profile(directory), directory, pdf=False).dot.read_text()

    dot = write(tmp_path / "two", [[1, 1], [2, 1]])
    assert "iterations" not in dot and dot.count("<B>add.reduce</B>") == 2
    dot = write(tmp_path / "loop", [[1, 1], [1, 1], [1, 1]])
    assert "×3 iterations (1 ops each)" in dot
