"""Floating-point 'raise' at several ranks: a condition found in one rank's tiles raises
the same FloatingPointError on every rank at the same point (Runtime._agree_on_errors),
naming the line that issued the operation, and the ranks go on in lock-step."""

from __future__ import annotations

import re

import pytest

from .test_mpi import run_code

pytestmark = pytest.mark.mpi

CODE = """
import hpcarray as np
from hpcarray.runtime import get_runtime
rank = get_runtime().rank
n = 30000
x, z = np.ones(n), np.ones(n)
z[n - 5:] = 0.0  # only the last rank's tiles divide by zero
for fused in (True, False):
    try:
        with np.errstate(divide="raise"):
            y = x / z
            if not fused:
                np.sync()
            total = float(y.sum())
        print(f"rank {rank}: no error", flush=True)
    except FloatingPointError as e:
        print(f"rank {rank}: caught {e} {e.__notes__}", flush=True)
with np.errstate(divide="ignore"):
    print(f"rank {rank}: after {float((x / z)[:10].sum())}", flush=True)
"""


@pytest.mark.parametrize("ranks", [2, 3])
def test_raise_on_every_rank_at_the_same_point(mpiexec, ranks):
    line = CODE.splitlines().index("            y = x / z") + 1
    r = run_code(mpiexec, ranks, CODE, HPCARRAY_MIN_SPLIT="1000", HPCARRAY_WORKERS="1",
                 HPCARRAY_PRINT_ALL_RANKS="1")
    assert r.returncode == 0, r.stderr
    for rank in range(ranks):
        caught = re.findall(rf"rank {rank}: caught divide by zero encountered in divide "
                            rf".*issued at <string>:{line}", r.stdout)
        assert len(caught) == 2, r.stdout
        assert f"rank {rank}: after 10.0" in r.stdout, r.stdout
    assert "no error" not in r.stdout
