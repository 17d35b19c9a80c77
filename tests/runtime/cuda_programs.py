"""Programs of the differential suite's kinds whose fused plans the CUDA generator is
checked on (tests/runtime/test_cuda_codegen.py; scripts/gpu-check.sh runs them on a GPU):
each dtype, each kind of operation, ndim 0-4, in place, casts, where, reductions.
Each takes the module (NumPy or hpcarray) and arrays a, b of one dtype and a mask m."""

from __future__ import annotations

import numpy as np

DTYPES = ["bool", "int32", "int64", "float32", "float64", "complex64", "complex128"]
SHAPES = {0: (), 1: (13,), 2: (7, 9), 3: (4, 5, 6), 4: (3, 2, 4, 5)}


def data(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.uniform(-3, 3, shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(x > 0)
    if dt.kind == "c":
        return np.asarray(x + 1j * rng.uniform(-3, 3, shape)).astype(dt)
    if dt.kind in "iu":
        return np.asarray(np.round(x * 5)).astype(dt)
    return x.astype(dt)


def programs(dtype: str, ndim: int) -> dict:
    """name -> fn(xp, a, b, m): the programs that make sense for this dtype and ndim."""
    k = np.dtype(dtype).kind
    p = {}
    # arithmetic chains with scalars and temporaries
    if k == "b":
        p["or_and"] = lambda xp, a, b, m: (a + b * a, a * True, ~(a ^ b))
    else:
        p["chain"] = lambda xp, a, b, m: (a + b * a - b, (a - 2) * 3 + b, -a * b)
        p["square"] = lambda xp, a, b, m: xp.square(a) + xp.positive(b)
    if k in "iu":
        p["integer"] = lambda xp, a, b, m: (
            a // 3 + a % 4, xp.power(xp.abs(a), 3), (a & b) | (a ^ 5), a << 2, a >> 1, ~a,
            xp.maximum(a, b), xp.minimum(a, 0), xp.sign(a))
        p["divide"] = lambda xp, a, b, m: a / 4 + b
    if k == "f":
        p["math"] = lambda xp, a, b, m: (
            xp.exp(a) + xp.sqrt(xp.abs(b)), xp.log1p(xp.abs(a)) * xp.sin(b),
            xp.maximum(a, b) - xp.minimum(a, 0.5), xp.arctan2(a, b), xp.floor(a) // 2,
            a % 1.5, xp.power(xp.abs(a), b), a / (b + 10))
        p["predicates"] = lambda xp, a, b, m: (xp.isnan(a / b), xp.isfinite(a / 0.5),
                                               xp.signbit(a))
    if k == "c":
        p["complex"] = lambda xp, a, b, m: (
            a / (b + 10) + xp.exp(a), xp.abs(a) + 1, xp.sqrt(a) * xp.conjugate(b),
            xp.log(a + 10) - xp.sin(b))
    # comparisons and logic
    if k == "c":
        p["compare"] = lambda xp, a, b, m: ((a == b) | (a != 2), xp.logical_not(a))
    else:
        p["compare"] = lambda xp, a, b, m: (
            (a < b) & (a >= 0), xp.logical_or(a > b, m), xp.logical_xor(a <= b, a == b))
    # where and casts
    p["where"] = lambda xp, a, b, m: (xp.where(m, a, b), xp.where(m, a + 1, 0))
    p["casts"] = lambda xp, a, b, m: (
        a.astype(np.float32) + 1, (a + b).astype(bool), a.astype(np.int64) * 2,
        a.astype(np.complex128) + b, (a * 2).astype(np.int32))
    p["mixed"] = lambda xp, a, b, m: (a + xp.ones(a.shape, np.float32), m + a)
    # in place: over what is read at the same mapping, and (n-d) at shifted ones
    p["inplace"] = _inplace
    if ndim >= 1:
        p["shifted"] = _shifted
        p["strided"] = lambda xp, a, b, m: (a[..., ::2] * True + b[..., ::-2]) * m[..., ::2]
    # reductions of fused chains
    if k != "b":
        p["reduce"] = lambda xp, a, b, m: (xp.sum(a * b + 1), xp.sum(a - b, axis=0)
                                           if ndim else xp.sum(a - b))
    return p


def _inplace(xp, a, b, m):
    """Updates of arrays the group reads at the same mapping (x += y; copyto)."""
    d = b.copy()
    a += b
    a *= b
    xp.copyto(d, a + b)
    return a, d


def _shifted(xp, a, b, m):
    """The stencil's update: written over windows it reads (center[:] = f(neighbours))."""
    c = a.copy()
    inner = tuple(slice(1, -1) for _ in range(a.ndim))
    up = (slice(0, -2),) + inner[1:]
    down = (slice(2, None),) + inner[1:]
    c[inner] = c[up] + c[down] * 2 + c[inner]
    return c
