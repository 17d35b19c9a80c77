"""Run every example program in a subprocess and compare checksums across packages."""

from __future__ import annotations

import functools
import importlib
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# Small sizes; --chunk-mb makes dask split the arrays into several chunks.
CASES: dict[str, list[str]] = {
    "stencil": ["-n", "64", "--iters", "5", "--chunk-mb", "0.01"],
    "small": ["-n", "64", "--iters", "3", "--chunk-mb", "0.01"],
    "cfd": ["-n", "32", "--iters", "3", "--nit", "10"],
    "jacobi": ["-n", "128", "--iters", "10", "--chunk-mb", "0.04"],
    "cg": ["-n", "64", "--iters", "10", "--chunk-mb", "0.01"],
    "black_scholes": ["-n", "20000", "--iters", "2", "--chunk-mb", "0.05"],
    "logreg": ["-n", "4000", "--iters", "10", "--chunk-mb", "0.2"],
    "gray_scott": ["-n", "64", "--iters", "10", "--chunk-mb", "0.01"],
    "monte_carlo": ["-n", "100000", "--iters", "3", "--chunk-mb", "0.2"],
    "gemm": ["-n", "128", "--iters", "2", "--chunk-mb", "0.04"],
}

CHECKSUM = re.compile(r"^checksum: (\S+)$", re.MULTILINE)
TIME = re.compile(r"^time: (\S+)$", re.MULTILINE)


def test_every_example_has_a_case() -> None:
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(CASES)


@functools.cache
def run_example(name: str, package: str) -> tuple[float, float]:
    """Run one example; return (checksum, time). Cached: numpy runs are shared."""
    env = dict(os.environ)
    env.pop("HPCARRAY_RUN", None)
    cmd = [sys.executable, str(EXAMPLES / f"{name}.py"), "--package", package, *CASES[name]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    checksum, elapsed = CHECKSUM.search(proc.stdout), TIME.search(proc.stdout)
    assert checksum and elapsed, proc.stdout
    return float(checksum.group(1)), float(elapsed.group(1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy(name: str) -> None:
    checksum, elapsed = run_example(name, "numpy")
    assert math.isfinite(checksum)
    assert elapsed >= 0.0


@pytest.mark.parametrize("name", sorted(CASES))
def test_dask_matches_numpy(name: str) -> None:
    pytest.importorskip("dask.array")
    checksum, _ = run_example(name, "dask")
    assert math.isfinite(checksum)
    assert checksum == pytest.approx(run_example(name, "numpy")[0], rel=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hpcarray_matches_numpy(name: str) -> None:
    checksum, _ = run_example(name, "hpcarray")
    assert math.isfinite(checksum)
    assert checksum == pytest.approx(run_example(name, "numpy")[0], rel=1e-6)


def test_default_package_follows_hpcarray_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    common = importlib.import_module("_common")
    monkeypatch.delenv("HPCARRAY_RUN", raising=False)
    assert common.default_package() == "numpy"
    monkeypatch.setenv("HPCARRAY_RUN", "1")
    assert common.default_package() == "hpcarray"
