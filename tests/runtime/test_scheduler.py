"""The task runtime: independent tasks overlap, dependent ones never do, sync points wait
only for what they need, errors surface, memory stays flat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import weakref

import numpy as np
import pytest

import hpcarray as hp
from hpcarray._api import ops
from hpcarray._api.convert import new_array
from hpcarray.runtime import get_runtime


def run_traced(tmp_path, code: str, **env) -> list[dict]:
    """Run `code` in a fresh process with tracing on; return its trace records."""
    prof = tmp_path / "prof"
    full_env = {**os.environ, "HPCARRAY_PROFILE": str(prof), "HPCARRAY_TEST": "0",
                "HPCARRAY_WORKERS": "2", "HPCARRAY_NO_RENDER": "1", **env}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, env=full_env,
                   timeout=120)
    lines = (prof / "trace.0.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def tasks_by_op(records) -> dict[str, list[dict]]:
    names = {r["id"]: r["name"] for r in records if r["type"] == "op"}
    out: dict[str, list[dict]] = {}
    for r in records:
        if r["type"] == "task":
            out.setdefault(names[r["op"]], []).append(r)
    return out


def span(tasks):
    return min(t["start"] for t in tasks), max(t["end"] for t in tasks)


def test_independent_operations_overlap_and_dependent_ones_do_not(tmp_path):
    # Arrays below the split threshold are one tile each: any overlap between the two
    # independent sin() calls is overlap between operations, not between tiles of one.
    records = run_traced(tmp_path, """
        import hpcarray as np
        for _ in range(5):
            a = np.ones(200_000); b = np.ones(200_000)
            x = np.sin(a); y = np.cos(b)          # independent
            z = np.exp(x)                         # depends on x
            float(z[0] + y[0])
    """)
    by_op = tasks_by_op(records)
    sins, coss, exps = by_op["sin"], by_op["cos"], by_op["exp"]
    overlapped = sum(
        1 for s, c in zip(sins, coss)
        if s["start"] < c["end"] and c["start"] < s["end"]
    )
    assert overlapped >= 1, "independent sin/cos tasks never ran at the same time"
    for s, e in zip(sins, exps):
        assert e["start"] >= s["end"], "exp started before the sin it reads had finished"
    kinds = {r["kind"] for r in records if r["type"] == "edge"}
    assert "RAW" in kinds


def test_overlapping_views_are_ordered(tmp_path):
    records = run_traced(tmp_path, """
        import hpcarray as np
        g = np.zeros((600, 600))
        g[1:-1, 1:-1] = 1.0                     # writes the interior
        g[0:-2, 1:-1] += g[2:, 1:-1]            # reads and writes overlapping shifted views
        float(g.sum())
    """, HPCARRAY_MIN_SPLIT="1000")
    edges = [r for r in records if r["type"] == "edge"]
    assert {e["kind"] for e in edges} >= {"RAW"}
    tasks = {r["id"]: r for r in records if r["type"] == "task"}
    for e in edges:
        if e["src"] in tasks and e["dst"] in tasks:
            assert tasks[e["dst"]]["start"] >= tasks[e["src"]]["end"]


def _blocking_op(target, event):
    """An operation writing `target` whose tasks wait for `event`."""
    def kernel(outs, ins):
        event.wait(10)
        outs[0][...] = 7
    ops.elementwise("blocked", kernel, [target], [])


def test_sync_waits_only_for_the_store_it_reads():
    rt = get_runtime()
    gate = threading.Event()
    # One element: one tile, so one task blocks one worker and the other stays free.
    blocked = new_array((1,), np.float64)
    other = hp.ones((64, 64)) * 3
    _blocking_op(blocked, gate)
    try:
        assert rt.scheduler.pending > 0
        assert float(other.sum()) == 3 * 64 * 64  # returns although `blocked` is pending
        assert blocked._v.store.accesses, "the blocked task finished: the sync waited for it"
    finally:
        gate.set()
    assert float(blocked.sum()) == 7


def test_task_error_surfaces_at_next_sync_with_operation_name():
    def kernel(outs, ins):
        raise ZeroDivisionError("boom")

    # Every tile fails: the error is raised once, at the sync point, not while the
    # operation is still being issued, and not again at the next sync (a race once).
    for _ in range(10):
        a = hp.ones((8, 8))
        ops.elementwise("exploding", kernel, [a], [])
        with pytest.raises(ZeroDivisionError, match="boom") as info:
            float(a.sum())
        if hasattr(info.value, "__notes__"):
            assert any("exploding" in n for n in info.value.__notes__)
        # The runtime stays usable afterwards.
        assert float(hp.ones(4).sum()) == 4.0


def test_temporaries_are_freed():
    a = hp.ones((50, 50))
    b = a * 2 + 1
    ref = weakref.ref(b._v.store)
    del b
    get_runtime().drain()
    assert ref() is None


def test_window_bounds_pending_tasks_and_memory_stays_flat(tmp_path):
    code = """
        import resource, hpcarray as np
        from hpcarray.runtime import get_runtime
        rt = get_runtime()
        x = np.ones((300, 300))
        peak_pending = 0
        rss = []
        for i in range(10_000):
            x = x * 1.0000001 + 1e-9
            peak_pending = max(peak_pending, rt.scheduler.pending)
            if i in (1000, 9999):
                rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        print(float(x[0, 0]), peak_pending, rss[0], rss[1])
    """
    env = {**os.environ, "HPCARRAY_TEST": "1", "HPCARRAY_WINDOW": "64"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    value, peak, rss_early, rss_late = out.split()
    assert int(peak) <= 64 + 16
    assert int(rss_late) - int(rss_early) < 50_000, "memory grew over the loop (KiB)"
    ref = np.ones((300, 300))
    for _ in range(10_000):
        ref = ref * 1.0000001 + 1e-9
    assert float(value) == pytest.approx(float(ref[0, 0]), rel=1e-12)
