"""NVTX ranges really reach an NVTX tool: checked with the carried injection library."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest
from hpcarray.profiling import nvtx as hnvtx

SRC = Path(__file__).parent / "nvtx_capture" / "nvtx_capture.c"


@pytest.fixture(scope="module")
def capture_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: needed to build the NVTX capture library")
    out = tmp_path_factory.mktemp("nvtx") / "libnvtx_capture.so"
    subprocess.run(["gcc", "-O2", "-fPIC", "-shared", "-o", str(out), str(SRC), "-lpthread"],
                   check=True, capture_output=True, timeout=120)
    return out


WORKERS = textwrap.dedent("""
    import sys, threading
    from hpcarray.profiling import nvtx as hn
    if len(sys.argv) > 1 and sys.argv[1] == "enable":
        hn.enable()
    tids = []
    def worker():
        tids.append(threading.get_native_id())
        for _ in range(5):
            hn.push("add", "task")
            hn.push("halo send", "copy")
            hn.pop()
            hn.pop()
    with hn.api_range("hpcarray.zeros"):
        threads = [threading.Thread(target=worker) for _ in range(3)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    print(threading.get_native_id(), *tids)
""")


def run_capture(lib: Path, tmp: Path, env_extra: dict, *args: str) -> tuple[list, list[int]]:
    events = tmp / "events.tsv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVTX_", "HPCARRAY_NVTX"))}
    env.update(NVTX_INJECTION64_PATH=str(lib), NVTX_CAPTURE_FILE=str(events), **env_extra)
    res = subprocess.run([sys.executable, "-c", WORKERS, *args], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    tids = [int(x) for x in res.stdout.split()]
    rows = [ln.rstrip("\n").split("\t") for ln in events.open()] if events.exists() else []
    return rows, tids


def check_ranges(rows: list, tids: list[int]) -> None:
    main, workers = tids[0], set(tids[1:])
    assert len(workers) == 3 and main not in workers
    mine = [r for r in rows if r[0] in ("push", "pop", "pop_unmatched") and r[4] == "hpcarray"]
    stacks: dict[int, list[str]] = defaultdict(list)
    count: dict[tuple[int, str], int] = defaultdict(int)
    for ev, _pid, tid, _t, _dom, msg in mine:
        tid_i = int(tid)
        if ev == "push":
            stacks[tid_i].append(msg)
            count[(tid_i, msg)] += 1
        else:
            assert ev == "pop" and stacks[tid_i] and stacks[tid_i].pop() == msg
    assert all(not s for s in stacks.values())  # balanced on every thread
    for w in workers:  # recorded from the worker threads themselves
        assert count[(w, "add")] == 5 and count[(w, "halo send")] == 5
    assert count[(main, "hpcarray.zeros")] == 1
    assert not [k for k in count if k[0] not in workers | {main}]
    assert ["domain_create", "hpcarray"] in [[r[0], r[5]] for r in rows]


def test_ranges_recorded_from_worker_threads(capture_lib: Path, tmp_path: Path) -> None:
    rows, tids = run_capture(capture_lib, tmp_path, {"HPCARRAY_NVTX": "1"})
    check_ranges(rows, tids)


def test_enable_at_run_time(capture_lib: Path, tmp_path: Path) -> None:
    rows, tids = run_capture(capture_lib, tmp_path, {}, "enable")
    check_ranges(rows, tids)


def test_disabled_emits_nothing(capture_lib: Path, tmp_path: Path) -> None:
    rows, _ = run_capture(capture_lib, tmp_path, {"HPCARRAY_NVTX": "0"})
    assert not [r for r in rows if r[0] == "push"]


def test_disabled_is_cheap_and_lazy() -> None:
    code = ("import sys\nfrom hpcarray.profiling import nvtx as hn\n"
            "hn.push('x', 'task'); hn.pop()\n"
            "with hn.api_range('y'): pass\n"
            "assert not hn.enabled() and 'nvtx' not in sys.modules, 'imported nvtx'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPCARRAY_NVTX")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    if hnvtx.enabled():
        pytest.skip("HPCARRAY_NVTX is set in this environment")
    n = 200_000
    t = time.perf_counter()
    for _ in range(n):
        hnvtx.push("add", "task")
        hnvtx.pop()
    per_pair = (time.perf_counter() - t) / n
    assert per_pair < 2e-6, f"{per_pair * 1e9:.0f} ns per disabled push+pop"


def test_stencil_emits_balanced_task_ranges_from_workers(capture_lib: Path, tmp_path: Path):
    """The real runtime: `hpcarray run --nvtx examples/stencil.py` puts every task in an
    NVTX range named after its operation, on the worker threads, balanced."""
    events = tmp_path / "events.tsv"
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVTX_", "HPCARRAY_"))}
    env.update(NVTX_INJECTION64_PATH=str(capture_lib), NVTX_CAPTURE_FILE=str(events),
               HPCARRAY_TEST="1", HPCARRAY_WORKERS="2")
    subprocess.run([sys.executable, "-m", "hpcarray.cli", "run", "--nvtx",
                    str(root / "examples" / "stencil.py"), "-n", "40", "--iters", "3"],
                   env=env, check=True, capture_output=True, timeout=120)
    rows = [ln.rstrip("\n").split("\t") for ln in events.open()]
    mine = [r for r in rows if r[0] in ("push", "pop") and r[4] == "hpcarray"]
    stacks: dict[str, list[str]] = defaultdict(list)
    names: dict[str, set] = defaultdict(set)
    for ev, _pid, tid, _t, _dom, msg in mine:
        if ev == "push":
            stacks[tid].append(msg)
            names[tid].add(msg)
        else:
            assert stacks[tid] and stacks[tid].pop() == msg
    assert all(not s for s in stacks.values()), "unbalanced ranges"
    emitted = set().union(*names.values())
    # The stencil's update is one fused kernel; the copy back is its own range.
    assert {"fused(add,add,add,add,multiply)", "assign"} <= emitted, emitted
    # Several threads, none of them the main thread (whose pid equals its tid).
    pids = {r[1] for r in mine}
    assert len(names) >= 2 and not any(t in pids for t in names)


def _run_observed(lib: Path, tmp: Path, code: str, *flags: str) -> list:
    """`hpcarray run FLAGS` of a script with the capture library attached; the messages of
    the ranges pushed in the hpcarray domain."""
    events = tmp / "events.tsv"
    script = tmp / "prog.py"
    script.write_text(textwrap.dedent(code))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVTX_", "HPCARRAY_"))}
    env.update(NVTX_INJECTION64_PATH=str(lib), NVTX_CAPTURE_FILE=str(events),
               HPCARRAY_WORKERS="2", HPCARRAY_NO_RENDER="1")
    subprocess.run([sys.executable, "-m", "hpcarray.cli", "run", *flags, str(script)],
                   env=env, check=True, capture_output=True, timeout=120, cwd=tmp)
    rows = [ln.rstrip("\n").split("\t") for ln in events.open()] if events.exists() else []
    return [r[5] for r in rows if r[0] == "push" and r[4] == "hpcarray"]


def test_small_arrays_get_a_range_per_operation(capture_lib: Path, tmp_path: Path):
    """Small arrays take the fast path (no tiles, no tasks) unless observed: under --nvtx
    every operation gets its range, the operations --profile records."""
    code = """
        import hpcarray as np
        a = np.arange(10.0)
        b = a * 3.0 + 1.0
        c = np.sqrt(b)
        print(float(np.sum(c)))
    """
    pushed = _run_observed(capture_lib, tmp_path, code, "--nvtx")
    _run_observed(capture_lib, tmp_path, code, "--profile", str(tmp_path / "prof"))
    from hpcarray.profiling.trace_reader import load_profile

    recorded = [op.name for op in load_profile(tmp_path / "prof").ops.values()]
    assert recorded == ["multiply", "add", "sqrt", "add.reduce"], recorded
    assert sorted(pushed) == sorted(recorded), pushed


ON_THE_DOUBLE = """
import json, sys, threading
sys.path[:0] = [{root!r}, {here!r}]
from test_gpu_streams import counts, start_on_double, stencil
import hpcarray as hp
rt = start_on_double(nvtx=True)
counts.reset()
counts.log = []
stencil(hp, iters=3)
rt.flush()
rt.scheduler.drain()
print(json.dumps({{"stream": rt.backend.stream.ptr, "log": counts.log,
                  "main": threading.get_native_id()}}))
"""


def test_gpu_launches_lie_in_their_tasks_ranges(capture_lib: Path, tmp_path: Path):
    """On the GPU backend (its TEST DOUBLE: no GPU here), every launch a worker makes on the
    rank's stream lies inside an NVTX range of its task, on its thread: what Nsight Systems
    projects onto the GPU's kernels."""
    root = Path(__file__).resolve().parents[2]
    events = tmp_path / "events.tsv"
    script = tmp_path / "prog.py"
    script.write_text(ON_THE_DOUBLE.format(root=str(root), here=str(root / "tests" / "runtime")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVTX_", "HPCARRAY_"))}
    env.update(NVTX_INJECTION64_PATH=str(capture_lib), NVTX_CAPTURE_FILE=str(events),
               HPCARRAY_TEST="1", HPCARRAY_WORKERS="2")
    out = subprocess.run([sys.executable, str(script)], env=env, check=True,
                         capture_output=True, text=True, timeout=120, cwd=root)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ranges: dict[int, list] = defaultdict(list)  # tid -> [(start, end, message)]
    open_: dict[int, list] = defaultdict(list)
    for ev, _pid, tid, t, dom, msg in (ln.rstrip("\n").split("\t") for ln in events.open()):
        if dom != "hpcarray" or ev not in ("push", "pop"):
            continue
        if ev == "push":
            open_[int(tid)].append((int(t), msg))
        else:
            t0, name = open_[int(tid)].pop()
            ranges[int(tid)].append((t0, int(t), name))
    launches = [(tid, t) for ptr, tid, t in got["log"]
                if ptr == got["stream"] and tid != got["main"]]  # the workers'
    assert len(launches) >= 30
    names = set()
    for tid, t in launches:
        inside = [r for r in ranges[tid] if r[0] <= t <= r[1]]
        assert inside, f"a launch on thread {tid} outside every range"
        names.add(min(inside, key=lambda r: r[1] - r[0])[2])
    assert any(n.startswith("fused(add,") for n in names), names  # the sweep's kernel
