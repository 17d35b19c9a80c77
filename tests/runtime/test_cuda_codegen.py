"""The CUDA generator (backend/cupy/codegen.py) on the plans real programs make: every
source it emits for the programs of cuda_programs.py (each dtype, operation kind, ndim 0-4,
in place, casts, where, fused reductions) compiles with NVRTC for sm_80 and sm_90.

No GPU here: the programs run on the CPU backend, with the GPU backend's operation table
(so the front end resolves loop dtypes as it will on a GPU) and a plan class that records
each call's arrays; their results are checked against NumPy's. Each recorded call is then
turned into the variant and source the GPU backend would compile for it
(backend/cupy/kernels.prepare), and those are compiled by NVRTC (no driver needed). That a
GPU runs them and gets NumPy's values is scripts/gpu-check.sh's part.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from compare import assert_same
from cuda_programs import DTYPES, SHAPES, data, programs

import hpcarray as hp
from hpcarray.runtime.backend.cpu import CpuBackend
from hpcarray.runtime.backend.cpu import kernels as cpu_kernels
from hpcarray.runtime.backend.cupy import codegen
from hpcarray.runtime.backend.cupy import kernels as gpu_kernels

nvrtc = pytest.importorskip("hpcarray.runtime.backend.cupy.nvrtc")
pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="needs the gpu-build extra")

ARCHS = ("sm_80", "sm_90")
_calls: list = []


class RecordingPlan(cpu_kernels.Plan):
    """The CPU's plan (blocked NumPy: HPCARRAY_JIT=off), noting the arrays of each call."""

    def runner(self, ndim, jit, size):
        run = super().runner(ndim, jit, size)

        def recorded(outs, leaves):
            # the views themselves: which share memory decides the variant
            _calls.append((self, list(outs), list(leaves)))
            return run(outs, leaves)
        return recorded


class GpuTable:
    EXPRESSIONS = gpu_kernels.EXPRESSIONS
    Plan = RecordingPlan


class RecordingBackend(CpuBackend):
    """CPU memory and blocked NumPy, with the GPU backend's operation table and plans
    recorded: what the fuser would hand the GPU backend, without a GPU."""

    kernels = GpuTable


@pytest.fixture(scope="module")
def recorded():
    from hpcarray.runtime.config import Settings
    from hpcarray.runtime.core import reset_runtime

    rt = reset_runtime(Settings.from_env().replace(jit="off"))
    rec = RecordingBackend(0, 1)
    rec.pool, rec.live = rt.backend.pool, rt.backend.live
    rt.backend = rec
    _calls.clear()
    ran = 0
    try:
        for dtype in DTYPES:
            for ndim, shape in SHAPES.items():
                a, b = data(dtype, shape, 1), data(dtype, shape, 2)
                m = data("bool", shape, 3)
                for name, fn in programs(dtype, ndim).items():
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        expected = fn(np, a.copy(), b.copy(), m)
                        got = fn(hp, hp.array(a), hp.array(b), hp.array(m))
                    _check(got, expected, f"{name} {dtype} ndim {ndim}")
                    ran += 1
    finally:
        reset_runtime()
    return ran, list(_calls)


def _check(got, expected, what: str) -> None:
    if not isinstance(expected, tuple):
        got, expected = (got,), (expected,)
    for g, e in zip(got, expected):
        try:
            assert_same(g, e, exact=False, rtol=1e-5, atol=1e-5)
        except AssertionError as err:
            raise AssertionError(f"{what}: {err}") from None


def _sources(calls) -> tuple[dict, list]:
    """Unique sources of the recorded calls (source -> a description), and the plans
    the generator declined (run step by step on a GPU)."""
    sources, declined = {}, []
    for plan, outs, leaves in calls:
        if not outs or outs[0].size == 0:
            continue
        _, v, src = gpu_kernels.prepare(plan, outs, leaves, np.empty)
        names = [codegen.operation_of(st.func) or st.func.name for st in plan.steps]
        if src is None:
            declined.append((names, v))
        else:
            sources.setdefault(src, (names, v))
    return sources, declined


def test_the_programs_cover_every_kind(recorded):
    ran, calls = recorded
    sources, declined = _sources(calls)
    variants = [v for _, v in sources.values()]
    assert {v.ndim for v in variants} >= {-1, 0, 1, 2, 3, 4}
    dtypes = {d.name for v in variants for d in v.outs + v.leaves}
    assert dtypes >= set(DTYPES)
    ops = {n for names, _ in sources.values() for n in names}
    assert ops >= {"add", "multiply", "copy", "where", "less", "exp", "floor_divide",
                   "remainder", "power", "left_shift", "absolute", "logical_not", "equal"}
    assert any(j >= 0 for v in variants for j in v.same)  # x += y read through x
    # Only complex ordering (NumPy's lexicographic order) is left to CuPy calls.
    assert all(any(n in ("maximum", "minimum", "less", "greater", "sign") for n in names)
               for names, _ in declined), declined
    print(f"\n{ran} programs, {len(calls)} plan calls, {len(sources)} unique sources, "
          f"{len(declined)} calls run step by step")


@pytest.mark.parametrize("arch", ARCHS)
def test_every_generated_source_compiles_with_nvrtc(recorded, arch):
    sources, _ = _sources(recorded[1])
    start = time.perf_counter()
    # One translation unit per batch (each source is its own kernel): a failing batch is
    # compiled source by source to name the culprit.
    batch = 40
    items = list(sources)
    for i in range(0, len(items), batch):
        part = items[i:i + batch]
        try:
            ptx = nvrtc.compile_ptx("\n".join(part), arch)
        except nvrtc.CompileError:
            for src in part:
                try:
                    nvrtc.compile_ptx(src, arch)
                except nvrtc.CompileError as err:
                    pytest.fail(f"{sources[src]}:\n{err}\n{src}")
            raise
        for src in part:
            assert codegen.name_of(src).encode() in ptx
    print(f"\n{arch}: {len(items)} sources compiled in {time.perf_counter() - start:.1f} s "
          f"(NVRTC {nvrtc.version()})")


def test_a_source_is_named_by_its_hash_and_made_once_per_variant(recorded):
    plan, outs, leaves = next(c for c in recorded[1] if c[1] and c[1][0].ndim == 2)
    _, v, src = gpu_kernels.prepare(plan, outs, leaves, np.empty)
    assert codegen.source(plan, v) == src
    assert codegen.name_of(src) == codegen.kernel_name(src[src.index(codegen.name_of(src))
                                                          + len(codegen.name_of(src)):])


def test_an_output_written_over_shifted_windows_it_reads_goes_to_scratch():
    """The stencil's center[:] = north + south: threads would read what others wrote."""
    grid = np.arange(30.0).reshape(5, 6)
    center, north = grid[1:-1, 1:-1], grid[:-2, 1:-1]
    plan = _one_step_plan()
    targets, v, src = gpu_kernels.prepare(plan, [center], [north, center], np.empty)
    assert targets[0] is not center and v.same == (-1, -1) and src is not None
    targets, v, _ = gpu_kernels.prepare(plan, [center], [center, center], np.empty)
    assert targets[0] is center and v.same == (0, 0)  # x = x + x: in place is fine


def _one_step_plan():
    from hpcarray.runtime.fusion.fuser import Func

    add = Func("add", np.add, "add", np.dtype("f8"))

    class Node:
        func, args, dtype = add, (("leaf", 0), ("leaf", 1)), np.dtype("f8")

    return gpu_kernels.Plan.build([Node()], [0], [np.dtype("f8")] * 2)


def test_casts_follow_numpy_kinds():
    f8, b, c16, i4 = (np.dtype(x) for x in ("f8", "?", "c16", "i4"))
    assert codegen.cast("x", c16, f8) == "((double)(x.real()))"
    assert codegen.cast("x", c16, b) == "(x.real() != 0 || x.imag() != 0)"
    assert codegen.cast("x", f8, c16) == "complex<double>((double)(x))"
    assert codegen.cast("x", i4, i4) == "x"
    assert codegen.expression("add", np.dtype("i8"), ["a", "b"])[0] == \
        "((long long)((unsigned long long)a + (unsigned long long)b))"
