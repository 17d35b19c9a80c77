"""scripts/gpu-check.sh's parts that run without a GPU: its arguments, the clear stop where
there is no GPU, and the example runner it times NumPy, CuPy and hpcarray with (here on
NumPy only). Its GPU stages run only on a GPU machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gpu_check  # noqa: E402


def _script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "gpu-check.sh"), *args],
                          capture_output=True, text=True, timeout=120)


def test_help():
    r = _script("--help")
    assert r.returncode == 0 and "--only" in r.stdout and "--quick" in r.stdout


def test_bad_stage_is_refused():
    r = _script("--only", "kernels,bogus")
    assert r.returncode == 2 and "unknown stage(s) bogus" in r.stderr
    with pytest.raises(SystemExit):
        gpu_check.parse(["--only", ","])


def test_stages_parse():
    assert gpu_check.parse([]).stages == list(gpu_check.STAGES)
    assert gpu_check.parse(["--only", "bench, examples", "--quick"]).stages == ["bench",
                                                                               "examples"]


def test_without_a_gpu_it_stops_at_once_saying_why():
    r = _script("--only", "bench")
    assert r.returncode == gpu_check.NO_GPU, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu-check: error: no GPU to check on: ")
    assert r.stdout == ""


def test_the_example_runner_reports_checksum_and_time():
    got = gpu_check.run_example("stencil", "numpy", 50, 2, backend="cpu")
    assert isinstance(got, tuple), got
    checksum, seconds = got
    assert seconds > 0 and checksum != 0
    assert "exit" in gpu_check.run_example("no_such_example", "numpy", 5, 1, backend="cpu")
