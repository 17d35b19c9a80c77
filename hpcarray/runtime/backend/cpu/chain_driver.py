"""The chain driver (fusion/chain.py): one compiled loop that runs every part of a chain
of window updates chunk by chunk, each part's flat kernel (kernels.FlatCall) defined
alongside it, so no Python runs per chunk and a chunk can fit the core's cache."""

from __future__ import annotations

import math

from hpcarray.runtime.backend.cpu import ieee_flags, kernels

DRIVER_CHUNK_BYTES = 256 << 10  # what one chunk of every part touches: the core's L2


def run(calls: list[kernels.FlatCall], tiles, rows) -> bool:
    """Run every part's compiled loop chunk by chunk inside one compiled driver, so that a
    chunk can be small enough for the core's own cache (a call from Python per chunk and
    part costs ~10 us). False if the driver does not compile (before any write)."""
    source = _source(calls)
    fn = kernels._compiled_source(source)
    if fn is None:
        return False
    row_bytes = sum(f.itemsize * max(1, math.prod(c.rest)) for c in calls for f in c.firsts)
    args = []
    for c, (_, _, first, end) in zip(calls, tiles):
        args += [*c.firsts, *c.row_steps, *c.scalars, *c.strides, *c.rest, first, end]
    try:
        chunk = max(1, DRIVER_CHUNK_BYTES // row_bytes)
        ieee_flags.run_compiled(fn, (*args, rows[0], rows[1], chunk),
                                [m for c in calls for m in c.members])
    except Exception:  # noqa: BLE001 - compiling failed
        kernels._compiled_cache[source] = None
        return False
    return True


def _source(calls: list[kernels.FlatCall]) -> str:
    """`kernel(per part: arrays, row steps, scalars, strides, extents after the first, its
    first and end row of S; then rows lo, hi of S and the chunk)`: for each chunk of rows,
    each part's flat kernel (defined alongside, jitted) on its rows of the chunk."""
    defs, params, loop = ["import numba", ""], [], []
    for k, c in enumerate(calls):
        defs += ["@numba.njit(nogil=True, error_model='numpy')",
                 c.source.replace("def kernel(", f"def part{k}(", 1)]
        arrays = [f"k{k}_a{j}" for j in range(len(c.firsts))]
        steps = [f"k{k}_r{j}" for j in range(len(c.firsts))]
        rest = ([f"k{k}_s{j}" for j in range(len(c.scalars))]
                + [f"k{k}_t{j}" for j in range(len(c.strides))])
        extents = [f"k{k}_n{d}" for d in range(len(c.rest))]
        params += arrays + steps + rest + extents + [f"k{k}_lo", f"k{k}_hi"]
        sliced = [f"{a}[(lo - k{k}_lo) * {r}:]" for a, r in zip(arrays, steps)]
        loop += [f"lo = max(c0, k{k}_lo)", f"hi = min(c1, k{k}_hi)", "if lo < hi:",
                 f"    part{k}({', '.join(sliced + rest + ['hi - lo'] + extents)})"]
    lines = [f"def kernel({', '.join(params + ['r_lo', 'r_hi', 'chunk'])}):",
             "    for c0 in range(r_lo, r_hi, chunk):",
             "        c1 = min(c0 + chunk, r_hi)"]
    lines += ["        " + line for line in loop]
    return "\n".join(defs + lines) + "\n"
