"""Fused plans on the GPU: the backend's `kernels` (the fuser builds `Plan`s from here).

A plan is the CPU's (cpu/kernels.Plan: the same steps, leaves and scratch slots); what
differs is how a tile runs: one generated CUDA kernel (codegen.py) per plan and variant,
compiled once through CuPy's RawKernel and launched on the current stream (the rank's: a
task's thread is bound to it, backend.CupyBackend.bind_thread), with no wait. A plan with a
step the generator does not compute runs its steps one by one as CuPy calls.

UNVERIFIED: no GPU has run this module yet (the machines this was written on have none).
What is verified without one: every source it generates compiles with NVRTC for sm_80 and
sm_90 (tests/runtime/test_cuda_codegen.py). scripts/gpu-check.sh runs it on a GPU.
"""

from __future__ import annotations

import threading

import numpy as np

from hpcarray.runtime.backend.cpu import kernels as cpu_kernels
from hpcarray.runtime.backend.cupy import codegen

# The operations generated kernels compute, by ufunc name (the front end resolves the loop
# dtype of these: Func.loop). The values are the names: no numba source is made from them.
EXPRESSIONS = {name: name for name in codegen.OPERATIONS}
# Grid rows launched at most (the kernel loops over the rest).
MAX_GRID_Y = 65535
# Blocks along the last axis at most (each thread loops over the rest).
MAX_GRID_X = 1 << 16

_device = [0]  # the rank's GPU (backend.CupyBackend sets it)
_compiled: dict[str, object] = {}
_lock = threading.Lock()


def use_device(device: int) -> None:
    _device[0] = device


class Plan(cpu_kernels.Plan):
    """A fused plan whose tiles run as one generated CUDA kernel."""

    def runner(self, ndim: int, jit: str, size: int):
        return self.run_cuda

    def flat_call(self, *args, **kwargs):
        return None  # no numba flat loops here: callers fall back to runner()

    def run_cuda(self, outs: list, leaves: list) -> None:
        import cupy

        if not outs or outs[0].size == 0:
            return
        with cupy.cuda.Device(_device[0]):
            targets, v, src = prepare(self, outs, leaves, cupy.empty)
            if src is None:
                self._run_steps(targets, leaves)
            else:
                _launch(src, v, self, targets, leaves)
            for o, t in zip(outs, targets):
                if o is not t:
                    o[...] = t

    def _run_steps(self, outs: list, leaves: list) -> None:
        """One CuPy call per step (NumPy's ufuncs dispatch to CuPy for CuPy arrays)."""
        import cupy

        values: list = [None] * len(self.steps)
        for s, st in enumerate(self.steps):
            kind, k = st.dest
            dest = outs[k] if kind == "out" else cupy.empty(outs[0].shape, self.slots[k])
            operands = [leaves[val] if kind_ == "leaf" else values[val] if kind_ == "step"
                        else val for kind_, val in st.args]
            st.func.call(dest, *operands)
            values[s] = dest


def prepare(plan: Plan, outs: list, leaves: list, empty):
    """What a call of the plan on these arrays runs: (the arrays the kernel writes, its
    variant, its source or None). Outputs that overlap a leaf at another mapping (the
    stencil's center[:] = work reading center's neighbours) are written to scratch from
    `empty` (copied into place after): threads would otherwise read what others wrote."""
    targets = [o if not any(_overlaps(o, a) for a in leaves) else empty(o.shape, o.dtype)
               for o in outs]
    v = codegen.variant(plan, targets, leaves)
    return targets, v, codegen.source(plan, v)


def _launch(src: str, v: codegen.Variant, plan: Plan, outs: list, leaves: list) -> None:
    stored = [outs[st.dest[1]] for st in plan.steps if st.dest[0] == "out"]
    arrays = stored + [a for a, j in zip(leaves, v.same) if j < 0]
    scalars = [np.dtype(dt).type(val) for dt, val in
               zip(codegen.scalar_dtypes(plan), _scalar_values(plan))]
    shape = stored[0].shape
    if v.ndim == -1:
        extents = [np.int64(stored[0].size)]
        strides: list = []
        rows, last = 1, stored[0].size
    else:
        extents = [np.int64(n) for n in shape]
        strides = [np.int64(s) for a in arrays for s in codegen.strides(a)]
        rows = int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) > 1 else 1
        last = shape[-1] if shape else 1
    grid = (max(1, min(MAX_GRID_X, -(-last // codegen.BLOCK))), max(1, min(MAX_GRID_Y, rows)))
    _kernel(src)(grid, (codegen.BLOCK,), (*arrays, *scalars, *extents, *strides))


def _scalar_values(plan: Plan) -> list:
    return [val for st in plan.steps for kind, val in st.args if kind == "scalar"]


def _kernel(src: str):
    """The compiled kernel of a source (compiled once per process; CuPy also caches the
    binary on disk across runs)."""
    fn = _compiled.get(src)
    if fn is None:
        import cupy

        from hpcarray.runtime import trace
        from hpcarray.runtime.backend.cupy.nvrtc import include_options

        with trace.compiling(), _lock:
            fn = _compiled.get(src)
            if fn is None:
                fn = _compiled[src] = cupy.RawKernel(
                    src, codegen.name_of(src),
                    options=(*codegen.COMPILE_OPTIONS, *include_options()))
    return fn


def _overlaps(a, b) -> bool:
    """Whether arrays a and b share memory without being the very same view."""
    if codegen._same(b, [a]) == 0:
        return False
    lo_a, hi_a = _bounds(a)
    lo_b, hi_b = _bounds(b)
    return lo_a < hi_b and lo_b < hi_a


def _bounds(a) -> tuple[int, int]:
    start = codegen._pointer(a)
    lo = start + sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s < 0)
    hi = start + sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s > 0) + a.itemsize
    return lo, hi
