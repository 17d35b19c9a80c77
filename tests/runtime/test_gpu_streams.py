"""The GPU backend's stream and events, on the TEST DOUBLE of CuPy (tests/gpu_double: no GPU
can run here).

What the double can show: which stream each launch goes on (the rank's, from every thread
that launches: main, workers, progress), where the host waits for the stream (counted),
and that the trace gets each task's GPU span from events and the timeline a GPU lane. What
it cannot: real asynchrony (its work runs when launched), so neither overlap nor a missing
wait between streams shows here; scripts/gpu-check.sh runs the same path on a GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from hpcarray.runtime import backend as backend_module
from hpcarray.runtime import core
from hpcarray.runtime.config import Settings
from tests.gpu_double import backend as double
from tests.gpu_double import fake_cupy

ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
counts = fake_cupy.counts


def stencil(xp, n: int = 22, iters: int = 4):
    """A Jacobi sweep as examples/stencil.py does it: neighbours' sum written back in place."""
    grid = xp.zeros((n + 2, n + 2))
    grid[0, :] = 1.0
    center = grid[1:-1, 1:-1]
    for _ in range(iters):
        work = 0.25 * (grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:])
        center[:] = work
    return grid


def start_on_double(**changes) -> core.Runtime:
    """A runtime whose backend is the double's CupyBackend (select replaced before it is
    made: the caller undoes that)."""
    backend_module.select = double.select
    return core.reset_runtime(Settings.from_env().replace(**changes))


@pytest.fixture
def on_double(monkeypatch):
    monkeypatch.setattr(backend_module, "select", backend_module.select)  # restored after
    yield start_on_double
    if core._runtime is not None:
        core._runtime.finalize()


def in_a_new_thread(fn) -> None:
    """Run `fn` on a thread of its own (whose current stream is the null stream), raising
    what it raises."""
    errors: list[BaseException] = []

    def run():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread
            errors.append(exc)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def test_the_double_has_cupys_streams_and_events():
    cuda = fake_cupy.cuda

    def check():
        stream = cuda.Stream(non_blocking=True)
        assert cuda.get_current_stream() is cuda.Stream.null and stream.ptr != 0
        seen = []
        with stream:
            assert cuda.get_current_stream() is stream
            in_a_new_thread(lambda: seen.append(cuda.get_current_stream()))
        assert seen == [cuda.Stream.null]  # the current stream is per thread
        assert cuda.get_current_stream() is cuda.Stream.null
        assert stream.use() is stream and cuda.get_current_stream() is stream
        counts.reset()
        start, end = cuda.Event(), cuda.Event()
        with pytest.raises(cuda.runtime.CUDARuntimeError):
            cuda.get_elapsed_time(start, end)  # never recorded
        start.record(stream)
        x = fake_cupy.zeros(1000)
        end.record(stream)
        assert cuda.get_elapsed_time(start, end) >= 0.0  # ms
        x.get(stream=cuda.Stream.null)
        float(x[0])
        assert counts.syncs == {0: 1, stream.ptr: 1}  # get() waits; so does float()
        assert counts.launches == {stream.ptr: 1}  # the zero fill
    in_a_new_thread(check)


def test_backend_work_goes_on_its_stream_and_waits_only_for_values():
    b = double.DoubleBackend()
    stream = fake_cupy.cuda.get_current_stream()
    assert stream is b.stream and stream.ptr != 0 and stream.non_blocking
    seen = []

    def worker():
        b.bind_thread()
        seen.append(fake_cupy.cuda.get_current_stream())
    in_a_new_thread(worker)
    assert seen == [b.stream]
    counts.reset()
    tile = b.allocate((4, 6), np.float64, zero=True)
    b.incoming(tile[1:3], b.message_buffer((2, 6), np.float64))  # pinned data: no wait
    assert counts.syncs == {}
    sent = b.outgoing(tile[:, 1:3])  # staged in pinned memory: one wait
    assert type(sent) is np.ndarray and sent.flags.c_contiguous
    assert counts.syncs == {b.stream.ptr: 1}
    b.to_host(tile)
    assert counts.syncs == {b.stream.ptr: 2}
    assert counts.launches[0] == 0 and counts.launches[b.stream.ptr] >= 3


def test_a_stencil_loop_launches_without_waits(on_double, hp):
    rt = on_double()
    grid = stencil(hp, iters=1)
    rt.flush()
    rt.scheduler.drain()
    counts.reset()
    counts.log = []
    tasks = next(rt._task_ids)
    center = grid[1:-1, 1:-1]
    for _ in range(4):  # the loop of stencil() again, on the grid it made
        work = 0.25 * (grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:])
        center[:] = work
    rt.flush()
    rt.scheduler.drain()
    tasks = next(rt._task_ids) - tasks - 1
    stream = rt.backend.stream.ptr
    main = threading.get_native_id()
    assert tasks >= 40 and counts.launches[stream] >= tasks
    assert counts.launches[0] == 0  # nothing on the null stream, from any thread
    assert any(tid != main for _, tid, _ in counts.log)  # the workers launched
    assert not counts.syncs  # no host wait per task: none at all until a value is read
    total = float(hp.sum(grid))
    assert 1 <= sum(counts.syncs.values()) <= 4
    np.testing.assert_allclose(total, stencil(np, iters=5).sum(), rtol=1e-12)


def test_the_trace_has_gpu_spans_and_the_timeline_a_gpu_lane(on_double, hp, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("HPCARRAY_NO_RENDER", "1")
    rt = on_double(profile_dir=str(tmp_path))
    counts.reset()
    stencil(hp, iters=3)
    rt.finalize()
    assert sum(counts.syncs.values()) <= 1  # the read back when the trace is written
    from hpcarray.profiling.summary import summarize
    from hpcarray.profiling.timeline import build_figure, render_timeline
    from hpcarray.profiling.trace_reader import GPU_PROC, load_profile

    prof = load_profile(tmp_path)
    assert prof.headers[0].gpu == 0
    tasks = {t.id: t for t in prof.tasks}
    assert len(prof.gpu) == len(tasks) >= 30
    spans = sorted(prof.gpu, key=lambda g: g.start)
    for g in spans:
        t = tasks[g.id]
        assert g.op == t.op and g.proc == GPU_PROC
        # the double's events are timed on the host, inside the task's body
        assert 0 <= g.end - g.start <= t.end - t.start + 1000
        assert t.start - 1000 <= g.start <= t.end + 20_000_000
    for a, b in zip(spans, spans[1:]):  # one stream: spans follow each other
        assert b.start >= a.end - 1000
    fig, facts = build_figure(prof)
    lane = facts["lane_labels"].index("rank 0 · GPU 0")
    assert facts["lane_labels"] == ["rank 0 · proc 0", "rank 0 · proc 1", "rank 0 · GPU 0"]
    on_lane = sum(int(np.sum(np.asarray(tr["y"][0::3]) == lane))
                  for tr in fig["data"] if tr.get("meta") == "bars")
    assert on_lane == len(prof.gpu)
    assert any(tr.get("name") == "rank 0 GPU busy %" for tr in fig["data"])
    page = render_timeline(prof, tmp_path / "timeline.html").read_text()
    label = "rank 0 · GPU 0"
    assert (label in page or json.dumps(label)[1:-1] in page) and "on the GPU" in page
    assert "GPU busy      r0 " in summarize(prof)


def test_the_gpu_checks_trace_stage_on_the_double(on_double, hp, monkeypatch, capsys):
    """scripts/gpu_check.py's check of a trace recorded on the GPU, here of one recorded
    on the double (its example runner replaced: the double lives in this process only)."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    monkeypatch.setenv("HPCARRAY_NO_RENDER", "1")
    import gpu_check

    def run_example(name, package, size, iters, backend="cupy", timeout=120, env=None):
        rt = on_double(profile_dir=env["HPCARRAY_PROFILE"])
        stencil(hp, iters=iters)
        rt.finalize()
        return 0.0, 0.0
    monkeypatch.setattr(gpu_check, "run_example", run_example)
    assert gpu_check.check_gpu_trace()
    assert "PASS GPU trace" in capsys.readouterr().out


TWO_RANKS = """
import json, sys
sys.path[:0] = [{root!r}, {here!r}]
import numpy as np
from test_gpu_streams import counts, start_on_double, stencil
import hpcarray as hp
rt = start_on_double()
grid = stencil(hp, iters=1)
rt.flush(); rt.scheduler.drain()
counts.reset()
sent = rt.sent[0]
center = grid[1:-1, 1:-1]
for _ in range(4):
    work = 0.25 * (grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:])
    center[:] = work
rt.flush(); rt.scheduler.drain()
launches, syncs, sent = dict(counts.launches), dict(counts.syncs), rt.sent[0] - sent
total = float(hp.sum(grid))
sys.stderr.write("RESULT " + json.dumps({{"rank": rt.rank, "stream": rt.backend.stream.ptr,
    "launches": launches, "syncs": syncs, "sent": sent, "total": total}}) + "\\n")
"""


@pytest.mark.no_mpi
@pytest.mark.mpi
def test_two_ranks_wait_only_for_the_messages_they_send(tmp_path):
    if not MPIEXEC.exists():
        pytest.skip("no mpiexec: pip install 'hpcarray[mpi]'")
    script = tmp_path / "two.py"
    script.write_text(TWO_RANKS.format(root=str(ROOT), here=str(Path(__file__).parent)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPCARRAY_")}
    env.update(HPCARRAY_TEST="1", HPCARRAY_WORKERS="1")
    r = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, str(script)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    results = [json.loads(line.split("RESULT ", 1)[1]) for line in r.stderr.splitlines()
               if "RESULT " in line]
    assert sorted(x["rank"] for x in results) == [0, 1]
    for x in results:
        stream = str(x["stream"])
        assert x["sent"] > 0 and x["launches"][stream] > 0
        assert "0" not in x["launches"]  # the progress thread's copies too are on the stream
        assert x["syncs"] == {stream: x["sent"]}  # one wait per message sent, no other
        np.testing.assert_allclose(x["total"], stencil(np, iters=5).sum(), rtol=1e-12)
