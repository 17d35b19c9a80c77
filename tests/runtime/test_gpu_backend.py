"""Choosing the GPU backend (HPCARRAY_BACKEND=cupy/auto), on machines without a GPU.

What runs for real here: CuPy's import (when the gpu-build extra is installed) and its
failing device query (no driver, no GPU), the launchers' local-rank variables, the CPU
fallback and its notice, the one-line error. "A GPU is present" can only be a test double
here: those tests say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

from hpcarray.runtime import backend
from hpcarray.runtime.backend.cupy import device, mpi

PROGRAM = "import hpcarray as np; print(int(np.arange(10).sum()))"


def _run(env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "HPCARRAY_BACKEND"}
    full.update(env)
    return subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          env=full, timeout=120)


def test_cupy_where_no_gpu_is_ends_with_one_line():
    r = _run({"HPCARRAY_BACKEND": "cupy"})
    assert r.returncode == 1, r
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("hpcarray: error: HPCARRAY_BACKEND=cupy: "), lines
    assert "no usable GPU" in lines[0] or "CuPy does not import" in lines[0], lines


def test_auto_without_a_gpu_runs_on_the_cpu_saying_why_once():
    r = _run({"HPCARRAY_BACKEND": "auto"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "45"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "hpcarray: HPCARRAY_BACKEND=auto: running on the CPU: "), r.stderr


def test_the_reason_is_cupys_own():
    found = device.probe(0)
    assert isinstance(found, str)  # no GPU on these machines
    try:
        import cupy  # noqa: F401
    except ImportError:
        assert found.startswith("CuPy does not import")
    else:
        assert found.startswith("no usable GPU (")


@pytest.mark.parametrize("name", device.LOCAL_RANK_VARIABLES)
def test_local_rank_comes_from_the_launcher(name):
    assert device.local_rank(4, {name: "3"}) == 3
    assert device.local_rank(1, {}) == 0


class FakeCupy(types.SimpleNamespace):
    """TEST DOUBLE for "this rank sees 4 GPUs": the parts of CuPy the selection and the
    backend's construction touch (no GPU can be had here)."""

    def __init__(self, count: int = 4):
        limits = {}

        class Device:
            def __init__(self, index):
                self.index = index

            def use(self):
                pass

        class Stream:
            def __init__(self, non_blocking=False):
                self.non_blocking = non_blocking

            def use(self):
                pass

        pool = types.SimpleNamespace(set_limit=lambda **kw: (limits.clear(), limits.update(kw)))
        super().__init__(
            cuda=types.SimpleNamespace(Device=Device, Stream=Stream,
                                       runtime=types.SimpleNamespace(
                                           getDeviceCount=lambda: count)),
            get_default_memory_pool=lambda: pool, limits=limits)


def test_with_a_gpu_cupy_and_auto_choose_the_gpu_of_the_local_rank(monkeypatch):
    """TEST DOUBLE: FakeCupy stands in for CuPy on a node with 4 GPUs."""
    fake = FakeCupy(4)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setenv("SLURM_LOCALID", "6")
    for name in ("cupy", "auto"):
        b = backend.select(name, 0, 8, gpu_memory_bytes=1 << 30)
        assert b.name == "cupy" and b.xp is fake and b.device_id == 2  # 6 mod 4
        assert b.stream.non_blocking  # the rank's stream does not wait for the null stream
        assert fake.limits == {"size": 1 << 30}
    backend.select("cupy", 0, 8)
    assert fake.limits == {"fraction": 0.9}


def test_cuda_aware_mpi_is_what_the_library_says(monkeypatch):
    monkeypatch.delenv("MPICH_GPU_SUPPORT_ENABLED", raising=False)
    assert mpi.cuda_aware() is False  # the MPICH wheel here is not built with CUDA
    monkeypatch.setenv("MPICH_GPU_SUPPORT_ENABLED", "1")
    assert mpi.cuda_aware() is True
