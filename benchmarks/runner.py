"""The benchmark driver: every program under every variant, in fresh processes.

Variants: ``numpy``; ``dask`` (threaded scheduler, dask's automatic chunks); ``hpcarray``
(one process, worker threads); ``hpcarray-nK`` (``hpcarray run -n K``, K ranks). A variant
that cannot run (package missing, launcher option missing, crash) is reported as n/a.

``python -m benchmarks [--quick] [--packages numpy,dask,hpcarray] [--programs stencil,...]``
or ``benchmarks.runner.main(argv)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import signal
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import execute, machine, programs, report
from benchmarks.measure import Cell
from benchmarks.programs import ROOT, Config, Program

PACKAGES = ("numpy", "dask", "hpcarray")


@dataclass(frozen=True)
class Variant:
    """One way of running a program."""

    name: str
    package: str
    ranks: int | None = None  # None: plain process; K: `hpcarray run -n K`
    profile: bool = False  # record a trace (the cost of --profile, rendering excluded)

    def argv(self, program: Program, config: Config) -> list[str]:
        script_args = [str(program.script), "--package", self.package, *config.argv()]
        if self.ranks is None:
            return [sys.executable, *script_args]
        return [sys.executable, "-m", "hpcarray.cli", "run", "-n", str(self.ranks),
                *script_args]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("HPCARRAY_RUN", None)  # `hpcarray run` sets it itself
        if self.profile:
            import tempfile

            env["HPCARRAY_PROFILE"] = tempfile.mkdtemp(prefix="hpcarray-bench-prof-")
            env["HPCARRAY_NO_RENDER"] = "1"
        return env

    def unavailable(self) -> str | None:
        """Why this variant cannot run here, or None."""
        module = "dask.array" if self.package == "dask" else self.package
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        return None if found else f"{module} is not installed"


def variants(packages: Sequence[str], ranks: Sequence[int]) -> list[Variant]:
    out = []
    for package in packages:
        out.append(Variant(package, package))
        if package == "hpcarray":
            out.append(Variant("hpcarray-prof", "hpcarray", profile=True))
            out += [Variant(f"hpcarray-n{k}", "hpcarray", k) for k in ranks]
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke)")
    parser.add_argument("--packages", default=",".join(PACKAGES),
                        help="comma-separated subset of numpy,dask,hpcarray (default: all)")
    parser.add_argument("--ranks", default="1,2",
                        help="rank counts for `hpcarray run -n K` (default: 1,2; '' for none)")
    parser.add_argument("--programs", default="",
                        help="comma-separated program names (default: all)")
    parser.add_argument("--reps", type=int, default=3, help="runs per cell (median)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per run (default: 600, quick: 120)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench_results",
                        help="folder for the JSON and Markdown results")
    parser.add_argument("--no-micro", action="store_true", help="skip the overhead benchmark")
    parser.add_argument("--no-stream", action="store_true", help="skip the STREAM measurement")
    return parser


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _measure_stream(quick: bool, timeout: float) -> dict[str, Any]:
    elements, reps = (1 << 22, 3) if quick else (1 << 25, 5)
    argv = [sys.executable, "-m", "benchmarks.stream", "--elements", str(elements),
            "--reps", str(reps)]
    result = execute.run(argv, dict(os.environ), timeout, str(ROOT))
    if not result.ok:
        return {"reason": result.failure()}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _measure_micro(packages: Sequence[str], reps: int, timeout: float) -> dict[str, Any]:
    ops, shape = 10_000, 100
    entries: dict[str, dict[str, Any]] = {}
    for package in (p for p in ("numpy", "hpcarray") if p in packages):
        variant = Variant(package, package)
        reason = variant.unavailable()
        samples: list[float] = []
        for _ in range(reps if reason is None else 0):
            argv = [sys.executable, "-m", "benchmarks.micro", "--package", package,
                    "--ops", str(ops), "--shape", str(shape)]
            result = execute.run(argv, variant.env(), timeout, str(ROOT))
            if not result.ok or "per_op_us" not in result.values:
                reason = result.failure()
                break
            samples.append(result.values["per_op_us"])
        entry: dict[str, Any] = {"status": "ok" if samples else "n/a", "reason": reason or ""}
        entry["per_op_us"] = statistics.median(samples) if samples else None
        entries[package] = entry
    base = entries.get("numpy", {}).get("per_op_us")
    for entry in entries.values():
        per_op = entry["per_op_us"]
        entry["ratio_to_numpy"] = per_op / base if per_op and base else None
    return {"ops": ops, "shape": shape, "packages": entries}


def _run_program(program: Program, config: Config, chosen: list[Variant], reps: int,
                 timeout: float, bandwidth: float | None) -> dict[str, Any]:
    cells = {v.name: Cell(v.name) for v in chosen}
    for v in chosen:
        reason = v.unavailable()
        if reason:
            cells[v.name].status, cells[v.name].reason = "n/a", reason
    for rep in range(reps):  # round-robin, so slow drifts in load hit every variant alike
        for v in chosen:
            cell = cells[v.name]
            if cell.status != "ok":
                continue
            result = execute.run(v.argv(program, config), v.env(), timeout, str(ROOT))
            if result.ok and {"checksum", "time"} <= result.values.keys():
                cell.add(result)
                _progress(f"[{program.name}] {v.name} {rep + 1}/{reps}: "
                          f"{result.values['time']:.4g} s, {result.maxrss_mib or 0:.0f} MiB")
            else:
                cell.status = "n/a" if v.ranks is not None or not cell.times_s else "error"
                cell.reason = result.failure()
                _progress(f"[{program.name}] {v.name}: {cell.status} ({cell.reason})")
    for cell in cells.values():
        cell.finish(program, config, bandwidth)
    reference = cells.get("numpy")
    for cell in cells.values():
        cell.compare(reference)
    bpp = program.bytes_per_point
    return {
        "name": program.name,
        "size": config.size,
        "iters": config.iters,
        "extra_args": list(config.extra),
        "unit": program.unit,
        "bytes_per_point": None if bpp is None else bpp(config),
        "bytes_note": program.note,
        "variants": {name: cell.to_json() for name, cell in cells.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, print the Markdown report, write JSON + Markdown; return 0."""
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM unwinds like Ctrl-C, so a running child's process group is killed too.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    packages = [p for p in args.packages.split(",") if p]
    unknown = sorted(set(packages) - set(PACKAGES))
    if unknown:
        raise SystemExit(f"unknown package(s): {', '.join(unknown)}")
    ranks = [int(k) for k in args.ranks.split(",") if k.strip()]
    timeout = args.timeout or (120.0 if args.quick else 600.0)
    started = time.time()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")

    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "reps": args.reps,
        "machine": machine.describe(),
        "variants": [],
        "programs": [],
    }
    if not args.no_stream:
        _progress("measuring memory bandwidth (STREAM)...")
        results["stream"] = _measure_stream(args.quick, timeout)
    bandwidth = results.get("stream", {}).get("best_gbs")

    chosen = variants(packages, ranks)
    results["variants"] = [v.name for v in chosen]
    for program in programs.select([n for n in args.programs.split(",") if n]):
        config = program.config(args.quick)
        results["programs"].append(
            _run_program(program, config, chosen, args.reps, timeout, bandwidth))
    if not args.no_micro:
        _progress("measuring per-operation overhead...")
        results["micro"] = _measure_micro(packages, args.reps, timeout)
    results["duration_s"] = time.time() - started

    json_path, md_path = report.write(results, args.out, stamp)
    print(report.markdown(results))
    print(f"results: {json_path} and {md_path}")
    return 0
