"""np.pad's computing modes at 3 ranks: statistics, ramps and odd reflections are built
from slices, reductions and elementwise arithmetic on the output, never a gather."""

from __future__ import annotations

import re
import textwrap

import pytest

from .test_mpi import run_code

pytestmark = pytest.mark.mpi

CODE = """
    import sys, numpy, hpcarray as np
    from hpcarray.runtime import get_runtime
    rt, rng = get_runtime(), numpy.random.default_rng(5)
    a0 = rng.random((3000, 200))
    a = np.asarray(a0) * 1.0  # computed: each rank holds only its own rows
    float(a[0, 0])
    cost = {}
    widths = ((40, 70), (3, 5))
    for name, (mode, kw) in CASES.items():
        before = rt.sent[1]
        res = np.pad(a, widths, mode, **kw)
        res.sum()  # waits for the result
        cost[name] = rt.sent[1] - before
        got, want = numpy.asarray(res), numpy.pad(a0, widths, mode, **kw)
        if mode == "mean":  # sums in hpcarray's block order, not NumPy's
            assert numpy.allclose(got, want, rtol=1e-13, atol=0), name
        else:
            assert numpy.array_equal(got, want), name
    sys.stderr.write(f"COST {rt.rank} {cost}\\n")
    whole = a0.nbytes  # what a gather brings every rank
    # The output's tiles start a few rows off the input's: rows at tile edges move.
    assert all(v <= 0.05 * whole for v in cost.values()), (cost, whole)
"""


def run_cases(mpiexec, cases: dict) -> None:
    code = f"CASES = {cases!r}\n" + textwrap.dedent(CODE)
    r = run_code(mpiexec, 3, code, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1")
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"COST \d+", r.stderr)) == 3, r.stderr


def test_pad_computing_modes_do_not_gather(mpiexec):
    run_cases(mpiexec, {
        "mean": ("mean", {}),
        "minimum": ("minimum", {}),
        "maximum": ("maximum", {}),
        "linear_ramp": ("linear_ramp", {"end_values": ((1.5, -2), (0, 3))}),
        "reflect_odd": ("reflect", {"reflect_type": "odd"}),
        "symmetric_odd": ("symmetric", {"reflect_type": "odd"}),
    })


def test_pad_short_stat_length_does_not_gather(mpiexec):
    """The statistic of a few rows next to an edge: those rows lie in one rank's tile,
    which reduces them where they are."""
    run_cases(mpiexec, {
        "mean": ("mean", {"stat_length": ((100, 7), (2, 50))}),
        "minimum": ("minimum", {"stat_length": 9}),
        "maximum": ("maximum", {"stat_length": (5, 3)}),
    })
