"""`hpcarray.sync()`, the public way to wait for pending work (for timing): it returns once
every operation issued so far has run, on every rank, and raises a deferred task's error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import hpcarray as hp
from hpcarray._api import ops
from hpcarray.runtime import get_runtime

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def test_sync_waits_for_every_pending_operation() -> None:
    gate = threading.Event()

    def kernel(outs, ins):
        gate.wait(10)
        outs[0][...] = 7

    a = hp.zeros((64, 64))
    ops.elementwise("gated", kernel, [a], [])
    assert get_runtime().scheduler.pending > 0
    threading.Timer(0.3, gate.set).start()
    start = time.perf_counter()
    hp.sync()
    assert time.perf_counter() - start >= 0.25
    assert get_runtime().scheduler.pending == 0 and not a._v.store.accesses
    assert float(a.sum()) == 7 * 64 * 64


def test_sync_raises_a_deferred_error() -> None:
    def kernel(outs, ins):
        raise ZeroDivisionError("boom")

    ops.elementwise("exploding", kernel, [hp.ones((8, 8))], [])
    with pytest.raises(ZeroDivisionError, match="boom"):
        hp.sync()
    hp.sync()  # raised once; the runtime stays usable
    assert float(hp.ones(4).sum()) == 4.0


@pytest.mark.mpi
@pytest.mark.no_mpi
@pytest.mark.skipif(not MPIEXEC.exists(), reason="no mpiexec (pip install 'hpcarray[mpi]')")
@pytest.mark.parametrize("ranks", [2, 3])
def test_sync_on_every_rank(ranks: int) -> None:
    """A task failing on the last rank only: every rank gets the error at sync()."""
    code = """
        import sys, hpcarray as hp
        from hpcarray._api import ops
        from hpcarray.runtime import get_runtime
        rank, size = get_runtime().rank, get_runtime().nranks
        def kernel(outs, ins):
            if rank == size - 1:
                raise ZeroDivisionError("boom")
            outs[0][...] = 1
        ops.elementwise("exploding", kernel, [hp.zeros((60, 60))], [])
        try:
            hp.sync()
        except ZeroDivisionError:
            print(f"rank {rank}: raised at sync", file=sys.stderr, flush=True)
        x = hp.arange(1000.0) * 2
        hp.sync()
        print(f"rank {rank}: {float(x.sum())}", file=sys.stderr, flush=True)
    """
    env = {**os.environ, "HPCARRAY_MIN_SPLIT": "100", "HPCARRAY_WORKERS": "1"}
    res = subprocess.run([str(MPIEXEC), "-n", str(ranks), sys.executable, "-c",
                          textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    for rank in range(ranks):
        assert f"rank {rank}: raised at sync" in res.stderr, res.stderr
        assert f"rank {rank}: 999000.0" in res.stderr, res.stderr


def test_examples_and_benchmarks_use_the_public_api() -> None:
    """They reached into hpcarray.runtime (get_runtime().flush()) to wait."""
    for folder in ("examples", "benchmarks"):
        for path in (ROOT / folder).glob("*.py"):
            assert "hpcarray.runtime" not in path.read_text(), path
