"""The GPU check's stages (scripts/gpu-check.sh runs this; see there for the stages).

Needs only what GPU machines of this project have (Python, numpy, numba, cupy-cuda13x,
mpi4py, pytest, hypothesis, jinja2, pyyaml): hpcarray comes from this checkout
(PYTHONPATH), anything else is imported lazily. Each stage prints PASS/FAIL lines; the
exit status is 0 only if every stage passed, 3 where there is no GPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = ("kernels", "suite", "examples", "bench")
NO_GPU = 3


def gpu_problem() -> str | None:
    """Why CuPy cannot run on a GPU here (one line), or None."""
    sys.path.insert(0, ROOT)
    from hpcarray.runtime.backend.cupy import device

    found = device.probe(0)
    return found if isinstance(found, str) else None


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="gpu-check.sh", description=(
        "Check the CuPy backend on this machine's GPU: generated kernels against NumPy, "
        "the differential suite with tiny tiles, the examples' checksums, and the stencil, "
        "Black-Scholes and CG against NumPy and plain CuPy (effective bandwidth)."))
    p.add_argument("--only", default=",".join(STAGES),
                   help=f"comma-separated stages to run (default: all of {','.join(STAGES)})")
    p.add_argument("--quick", action="store_true",
                   help="small benchmark sizes (a smoke test of the check itself)")
    args = p.parse_args(argv)
    args.stages = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in args.stages if s not in STAGES]
    if bad or not args.stages:
        p.error(f"--only: unknown stage(s) {','.join(bad) or '(none)'}; "
                f"choose from {','.join(STAGES)}")
    return args


# -- kernels: every generated source run on the GPU against the CPU's values ---------------

def stage_kernels() -> bool:
    """The differential programs (tests/runtime/cuda_programs.py) run on the CPU backend;
    each fused call is also run by the GPU backend's Plan on copies of its inputs in GPU
    memory and the outputs compared (this checks codegen and launch without the rest of the
    runtime on the GPU)."""
    import cupy
    import numpy as np

    sys.path[:0] = [os.path.join(ROOT, "tests"), os.path.join(ROOT, "tests", "runtime")]
    import warnings

    from cuda_programs import DTYPES, SHAPES, data, programs

    import hpcarray as hp
    from hpcarray.runtime.backend.cpu import CpuBackend
    from hpcarray.runtime.backend.cpu import kernels as cpu_kernels
    from hpcarray.runtime.backend.cupy import kernels as gpu_kernels
    from hpcarray.runtime.config import Settings
    from hpcarray.runtime.core import reset_runtime

    stats = {"calls": 0, "exact": 0, "close": 0, "bad": 0}
    failures: list[str] = []

    class CheckedPlan(gpu_kernels.Plan):
        def runner(self, ndim, jit, size):
            cpu_run = cpu_kernels.Plan.runner(self, ndim, jit, size)

            def run(outs, leaves):
                g_leaves = [cupy.asarray(np.ascontiguousarray(a)) for a in leaves]
                cpu_run(outs, leaves)
                g_outs = [cupy.empty(o.shape, o.dtype) for o in outs]
                self.run_cuda(g_outs, g_leaves)
                _compare(self, outs, [cupy.asnumpy(o) for o in g_outs])
            return run

    def _compare(plan, outs, got):
        stats["calls"] += 1
        names = ",".join(st.func.name for st in plan.steps)
        for o, g in zip(outs, got):
            if np.array_equal(o, g, equal_nan=o.dtype.kind in "fc"):
                stats["exact"] += 1
            elif o.dtype.kind in "fc" and np.allclose(  # transcendentals: a few ulps
                    g, o, rtol=4 * np.finfo(o.dtype).eps, atol=1e-6, equal_nan=True):
                stats["close"] += 1
            else:
                stats["bad"] += 1
                failures.append(f"{names} {o.dtype} {o.shape}: max |diff| "
                                f"{np.max(np.abs(o.astype(complex) - g.astype(complex)))}")

    class Table:
        EXPRESSIONS = gpu_kernels.EXPRESSIONS
        Plan = CheckedPlan

    class CheckedBackend(CpuBackend):
        kernels = Table

    os.environ["HPCARRAY_TEST"] = "1"
    rt = reset_runtime(Settings.from_env().replace(jit="off", test_mode=True))
    b = CheckedBackend(0, 1)
    b.pool, b.live = rt.backend.pool, rt.backend.live
    rt.backend = b
    start = time.perf_counter()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for dtype in DTYPES:
            for ndim, shape in SHAPES.items():
                a, bb, m = data(dtype, shape, 1), data(dtype, shape, 2), data("bool", shape, 3)
                for fn in programs(dtype, ndim).values():
                    res = fn(hp, hp.array(a), hp.array(bb), hp.array(m))
                    for x in res if isinstance(res, tuple) else (res,):
                        np.asarray(x)
    reset_runtime()
    ok = stats["bad"] == 0 and stats["calls"] > 0
    print(f"{'PASS' if ok else 'FAIL'} kernels: {stats['calls']} fused calls on the GPU, "
          f"{stats['exact']} outputs bit-identical, {stats['close']} within rounding, "
          f"{stats['bad']} wrong ({time.perf_counter() - start:.1f} s)")
    for f in failures[:20]:
        print("    ", f)
    return ok


# -- suite: the differential tests with forced tiny tiles on HPCARRAY_BACKEND=cupy ---------

SUITE = ["tests/test_ufuncs.py", "tests/test_reductions.py", "tests/test_creation.py",
         "tests/test_indexing.py", "tests/test_manipulation.py", "tests/runtime/test_fusion.py",
         "tests/runtime/test_fused_reduction.py"]


def stage_suite(quick: bool) -> bool:
    env = {**os.environ, "HPCARRAY_BACKEND": "cupy", "HPCARRAY_TEST": "1",
           "HYPOTHESIS_PROFILE": "dev", "PYTHONPATH": _pythonpath()}
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE]
    if quick:
        cmd.append("-x")
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=150 if quick else 240)
        tail = (r.stdout + r.stderr).strip().splitlines()[-15:]
        ok = r.returncode == 0
    except subprocess.TimeoutExpired:
        tail, ok = ["(stopped at the stage's time limit)"], False
    print(f"{'PASS' if ok else 'FAIL'} suite: {len(SUITE)} differential test files on "
          f"HPCARRAY_BACKEND=cupy, tiny tiles ({time.perf_counter() - start:.0f} s)")
    for line in tail:
        print("    ", line)
    return ok


# -- examples and benchmarks ------------------------------------------------------------------

EXAMPLES = {"stencil": 200, "black_scholes": 100_000, "cg": 100, "jacobi": 200,
            "gray_scott": 128, "cfd": 64, "logreg": 10_000, "monte_carlo": 100_000}
# (example, size, bytes one iteration must move at least, per element of the size)
BENCH = [("stencil", 16384, lambda n: 2 * 8 * (n + 2) ** 2),  # read + write the grid
         ("black_scholes", 100_000_000, lambda n: 5 * 8 * n),  # S, K, T in; call, put out
         ("cg", 8192, lambda n: 24 * 8 * n * n)]  # about 16 vector reads + 8 writes


def run_example(name: str, package: str, size: int, iters: int, backend: str = "cupy",
                timeout: float = 120, env: dict | None = None) -> tuple[float, float] | str:
    """(checksum, seconds of the timed loop) of one example run (`env`: more variables),
    or why it failed."""
    env = {**os.environ, "PYTHONPATH": _pythonpath(), "HPCARRAY_BACKEND": backend, **(env or {})}
    cmd = [sys.executable, os.path.abspath(__file__), "_example", name, "--package", package,
           "--size", str(size), "--iters", str(iters)]
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"over {timeout:.0f} s"
    values = dict(line.split(": ", 1) for line in r.stdout.splitlines()
                  if line.startswith(("checksum: ", "time: ")))
    if r.returncode or "checksum" not in values:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return f"exit {r.returncode}: {last}"
    return float(values["checksum"]), float(values["time"])


def stage_examples() -> bool:
    ok = True
    for name, size in EXAMPLES.items():
        ref = run_example(name, "numpy", size, 3, backend="cpu")
        got = run_example(name, "hpcarray", size, 3)
        if isinstance(ref, str) or isinstance(got, str):
            good, text = False, f"numpy: {ref}" if isinstance(ref, str) else f"hpcarray: {got}"
        else:
            # rtol: transcendentals differ from NumPy's by ulps, sums by order
            good = abs(got[0] - ref[0]) <= 1e-9 * max(1.0, abs(ref[0])) + 1e-12 or (
                abs(got[0] - ref[0]) <= 1e-6 * abs(ref[0]))
            text = f"checksum {got[0]!r} vs NumPy's {ref[0]!r}"
        ok &= good
        print(f"{'PASS' if good else 'FAIL'} example {name} (size {size}): {text}")
    return check_gpu_trace() and ok


def check_gpu_trace() -> bool:
    """The stencil recorded (HPCARRAY_PROFILE) on the GPU: every task has its span on the
    GPU from CUDA events on the rank's stream, read back when the trace is written; on the
    one stream spans follow each other; the timeline gets the rank's GPU lane."""
    import tempfile

    import numpy as np

    sys.path.insert(0, ROOT)  # profiling/ is hpcarray.profiling only once installed
    from profiling._bars import build_lanes
    from profiling.trace_reader import GPU_PROC, load_profile

    with tempfile.TemporaryDirectory() as d:
        got = run_example("stencil", "hpcarray", 512, 5,
                          env={"HPCARRAY_PROFILE": d, "HPCARRAY_NO_RENDER": "1"})
        if isinstance(got, str):
            print(f"FAIL GPU trace: the recorded stencil: {got}")
            return False
        prof = load_profile(d)
    spans = sorted(prof.gpu, key=lambda g: g.start)
    starts = np.array([g.start for g in spans], dtype=np.int64)
    ends = np.array([g.end for g in spans], dtype=np.int64)
    ok = (len(spans) == len(prof.tasks) > 0 and bool(np.all(ends >= starts))
          and bool(np.all(starts[1:] >= ends[:-1] - 1000))  # rounding of event times
          and (0, GPU_PROC) in build_lanes(prof).index)
    busy = int((ends - starts).sum()) if len(spans) else 0
    lo, hi = prof.span()
    print(f"{'PASS' if ok else 'FAIL'} GPU trace: {len(spans)} GPU spans for "
          f"{len(prof.tasks)} tasks, GPU busy {busy / 1e6:.1f} ms of {(hi - lo) / 1e6:.1f} ms")
    return ok


def stage_bench(quick: bool) -> bool:
    ok = True
    for name, size, moved in BENCH:
        if quick:
            size = {"stencil": 1024, "black_scholes": 1_000_000, "cg": 512}[name]
        times = {}
        for label, package, backend, iters in (("numpy", "numpy", "cpu", 1),
                                               ("cupy", "cupy", "cpu", 10),
                                               ("hpcarray", "hpcarray", "cupy", 10)):
            res = run_example(name, package, size, iters, backend=backend, timeout=150)
            if isinstance(res, str):
                print(f"     {name} {label}: FAILED ({res})")
                ok &= label != "numpy"
                times[label] = None
                continue
            per = res[1] / iters
            times[label] = per
            print(f"     {name} N={size} {label:9s}: {per * 1e3:9.2f} ms/iter, "
                  f"{moved(size) / per / 1e9:7.1f} GB/s effective  (checksum {res[0]!r})")
        h, c = times.get("hpcarray"), times.get("cupy")
        if h and c:
            print(f"     {name}: hpcarray is {c / h:.2f}x plain CuPy")
        ok &= h is not None
    print(f"{'PASS' if ok else 'FAIL'} bench")
    return ok


def _pythonpath() -> str:
    return os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)


def _example(argv: list[str]) -> None:
    """Run one example in this process; `--package cupy` is plain CuPy as `np`."""
    name, rest = argv[0], argv[1:]
    sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]
    import _common

    if "cupy" in rest:
        import cupy

        _common.PACKAGES = (*_common.PACKAGES, "cupy")
        load, sync = _common.load_package, _common.sync
        _common.load_package = lambda p, c=None: cupy if p == "cupy" else load(p, c)

        def synced(package, np, arrays):
            if package == "cupy":
                cupy.cuda.get_current_stream().synchronize()
            return sync(package, np, arrays)
        _common.sync = synced
        _common.Example.run = _synced_run(_common.Example.run, cupy)
    __import__(name).main(rest)


def _synced_run(run, cupy):
    """Example.run for plain CuPy: the device finishes before the clock stops."""
    def wrapped(self, step, *state):
        def synced_step(*s):
            out = step(*s)
            cupy.cuda.get_current_stream().synchronize()
            return out
        return run(self, synced_step, *state)
    return wrapped


def main(argv: list[str]) -> int:
    if argv[:1] == ["_example"]:
        _example(argv[1:])
        return 0
    args = parse(argv)
    problem = gpu_problem()
    if problem:
        print(f"gpu-check: error: no GPU to check on: {problem}", file=sys.stderr)
        return NO_GPU
    ok = True
    for stage in args.stages:
        if stage == "kernels":
            ok &= stage_kernels()
        elif stage == "suite":
            ok &= stage_suite(args.quick)
        elif stage == "examples":
            ok &= stage_examples()
        else:
            ok &= stage_bench(args.quick)
    print("gpu-check: " + ("all stages passed" if ok else "some stages FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
