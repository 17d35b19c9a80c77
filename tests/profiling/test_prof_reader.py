"""The trace reader: format version 1, unknown keys, version check, filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hpcarray.profiling.trace_reader import SUPPORTED_VERSION, TraceError, load_profile
from prof_synth import T0, TraceWriter, make_chain_join


def test_load_two_ranks(tmp_path: Path) -> None:
    written = make_chain_join(tmp_path, nranks=2, workers=2)
    prof = load_profile(tmp_path)
    assert prof.ranks == [0, 1]
    assert prof.script == "prog.py"
    assert len(prof.tasks) == 2 * 5 * 2
    assert len(prof.copies) == 4
    assert len(prof.edges) == sum(len(e) for e in written["edges"].values())
    assert {s.name for s in prof.stores.values()} == {"a", "b", "c"}
    assert prof.ops[5].reads == [(1, 2), (2, 2)] and prof.ops[5].writes == [(3, 1)]
    # rank 1 started 1000 ns after rank 0: its times are shifted onto the global axis
    r0 = min(t.start for t in prof.tasks if t.rank == 0)
    r1 = min(t.start for t in prof.tasks if t.rank == 1)
    assert (r0, r1) == (1000, 2000)
    send = next(c for c in prof.copies if c.rank == 0 and c.side == "send")
    assert (send.kind, send.src, send.dst, send.tag, send.store) == ("halo", 0, 1, 100, 1)
    assert prof.end_ns == {0: 10_000_000, 1: 10_001_000}


def test_ids_are_per_rank(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=2)
    prof = load_profile(tmp_path)
    ids0 = {t.id for t in prof.tasks if t.rank == 0}
    ids1 = {t.id for t in prof.tasks if t.rank == 1}
    assert ids0 == ids1  # same numbers on both ranks, kept apart by rank


def test_newer_version_refused(tmp_path: Path) -> None:
    w = TraceWriter(tmp_path, 0, 1, 1, version=SUPPORTED_VERSION + 1)
    w.close()
    with pytest.raises(TraceError, match="version 2 is newer than this reader supports"):
        load_profile(tmp_path)


def test_unknown_records_and_keys_ignored(tmp_path: Path) -> None:
    w = TraceWriter(tmp_path, 0, 1, 1)
    w.write(type="counter", name="future record type", value=3)
    w.op(1, "add", "x.py:1", [], [[1, 1]])
    w.write(type="store", id=1, shape=[4], dtype="int32", name=None, layout="new field")
    w.task(1, 0, 10, 20, [[0, 4]])
    w.close()
    prof = load_profile(tmp_path)
    assert len(prof.tasks) == 1 and prof.stores[1].name is None


def test_truncated_last_line_tolerated(tmp_path: Path) -> None:
    w = TraceWriter(tmp_path, 0, 1, 1)
    w.task(1, 0, 10, 20, [[0, 4]])
    w.f.write('{"type":"task","id":2,"op"')  # a crashed run
    w.f.close()
    assert len(load_profile(tmp_path).tasks) == 1


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="not found"):
        load_profile(tmp_path / "missing")
    with pytest.raises(TraceError, match="no trace"):
        load_profile(tmp_path)
    (tmp_path / "trace.0.jsonl").write_text(json.dumps({"type": "task"}) + "\n")
    with pytest.raises(TraceError, match="not a header"):
        load_profile(tmp_path)


def test_filters(tmp_path: Path) -> None:
    make_chain_join(tmp_path, nranks=2, workers=2)
    only1 = load_profile(tmp_path, ranks=[1])
    assert only1.ranks == [1] and {t.rank for t in only1.tasks} == {1}
    assert all(e.rank == 1 for e in only1.edges)
    # tasks of rank 0 run at 1000, 2000, ... ns: a window of [2.5 µs, 3.5 µs] keeps few
    win = load_profile(tmp_path, start=2.5e-6, end=3.5e-6, ranks=[0])
    assert win.tasks and all(t.end >= 2500 and t.start <= 3500 for t in win.tasks)
    assert len(win.tasks) < len(only1.tasks)
    ids = {t.id for t in win.tasks} | {c.id for c in win.copies}
    assert all(e.src in ids and e.dst in ids for e in win.edges)
    with pytest.raises(TraceError, match="rank"):
        load_profile(tmp_path, ranks=[7])
    assert T0 > 0
