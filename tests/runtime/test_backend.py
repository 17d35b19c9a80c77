"""The backend seam (runtime/backend/): selection from the one setting, and the
allocation report a rank gives when an array does not fit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy
import pytest

from hpcarray.runtime import backend, get_runtime
from hpcarray.runtime.backend import report
from hpcarray.runtime.config import Settings


def test_the_runtime_allocates_through_its_backend(hp):
    rt = get_runtime()
    assert rt.backend.name == "cpu" and rt.backend.xp is numpy
    a = hp.zeros((600, 600))
    assert any(e[0] == (600, 600) for e in rt.backend.live.largest(100))
    del a


def test_unknown_backend_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("HPCARRAY_BACKEND", "tpu")
    with pytest.raises(ValueError, match=r"HPCARRAY_BACKEND='tpu': not one of cpu, cupy, auto"):
        Settings.from_env()
    with pytest.raises(ValueError, match="available: cpu, cupy, auto"):
        backend.select("tpu", 0, 1)


def test_live_arrays_forget_dead_ones():
    live = report.LiveArrays()

    class Owner:
        pass

    big, small = Owner(), Owner()
    live.add(big, (1024, 1024), numpy.dtype("f8"), 8 << 20)
    live.add(small, (4,), numpy.dtype("f8"), 32)
    assert [e[0] for e in live.largest()] == [(1024, 1024)]
    del big
    assert live.largest() == [] and live.total() == 0


def test_an_array_that_does_not_fit_names_itself_and_the_largest_live_ones(tmp_path):
    """Over the address-space limit a rank's allocation fails: the MemoryError says which
    array (shape, dtype, bytes, the user's line) and what this rank holds, not NumPy's bare
    'Unable to allocate'."""
    script = tmp_path / "big.py"
    script.write_text(textwrap.dedent("""
        import resource
        import hpcarray as np
        keep = np.ones((2000, 2000))
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        a = np.zeros((40000, 40000))
    """))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1
    last = r.stderr[r.stderr.index("MemoryError"):]
    assert "cannot allocate 11.9 GiB for an array of shape (40000, 40000) and dtype " \
           "float64 (made at big.py:6)" in last, last
    assert "30.5 MiB  shape (2000, 2000) float64, made at big.py:4" in last, last
    assert "Unable to allocate" not in r.stderr
