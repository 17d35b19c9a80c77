"""Smoke test of the benchmark runner (quick sizes, NumPy only) and its helpers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import execute, programs

ROOT = Path(__file__).resolve().parents[2]


def test_quick_numpy_run_writes_table_and_json(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--packages", "numpy",
           "--reps", "1", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| program | size | iters | variant |" in proc.stdout
    for program in programs.PROGRAMS:
        assert f"| {program.name} | {program.quick.size} |" in proc.stdout

    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["quick"] is True
    assert data["machine"]["numpy"]
    assert data["stream"]["best_gbs"] > 0
    assert data["micro"]["packages"]["numpy"]["per_op_us"] > 0
    assert [p["name"] for p in data["programs"]] == [p.name for p in programs.PROGRAMS]
    for prog in data["programs"]:
        cell = prog["variants"]["numpy"]
        assert cell["status"] == "ok", cell["reason"]
        assert cell["time_per_iter_s"] > 0 and cell["peak_rss_mib"] > 0
        assert cell["throughput"] > 0
    assert "| numpy |" in (tmp_path / "latest.md").read_text()


def test_parse_takes_the_first_value_of_each_field() -> None:
    out = "checksum: 1.5\ntime: 0.25\nchecksum: 2.5\nper_op_us: 3\ntime: oops\n"
    assert execute.parse(out) == {"checksum": 1.5, "time": 0.25, "per_op_us": 3.0}


def test_run_reports_rusage_and_kills_on_timeout(tmp_path: Path) -> None:
    ok = execute.run([sys.executable, "-c", "print('checksum: 1.0'); print('time: 2.0')"],
                     {}, 30, str(tmp_path))
    assert ok.ok and ok.values == {"checksum": 1.0, "time": 2.0}
    assert ok.maxrss_mib and ok.maxrss_mib > 1
    slow = execute.run([sys.executable, "-c", "import time; time.sleep(30)"], {}, 0.5,
                       str(tmp_path))
    assert slow.timed_out and not slow.ok and "timed out" in slow.failure()
    failed = execute.run([sys.executable, "-c", "raise SystemExit('boom')"], {}, 30,
                         str(tmp_path))
    assert not failed.ok and "boom" in failed.failure()


def test_failure_prefers_the_python_exception(tmp_path: Path) -> None:
    code = ("import sys; sys.stderr.write('Traceback...\\nValueError: bad tile\\n"
            "Abort(1) on node 1: application called MPI_Abort\\n'); sys.exit(1)")
    result = execute.run([sys.executable, "-c", code], {}, 30, str(tmp_path))
    assert result.failure() == "exit 1: ValueError: bad tile"
