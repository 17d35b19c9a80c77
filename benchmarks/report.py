"""Render benchmark results as Markdown and write them (JSON + Markdown) to a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NA = "n/a"


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return NA if value is None else f"{value:{spec}}{suffix}"


def _check(cell: dict[str, Any], variant: str) -> str:
    if variant == "numpy":
        return "ref"
    match = cell.get("checksum_matches_numpy")
    return NA if match is None else ("ok" if match else "MISMATCH")


def results_table(results: dict[str, Any]) -> str:
    """The main table: one row per program and variant."""
    header = ("| program | size | iters | variant | time/iter (s) | throughput | vs NumPy "
              "| peak RSS (MiB) | RSS / NumPy | roofline | checksum |")
    lines = [header, "|" + "---|" * 11]
    for prog in results["programs"]:
        for variant, cell in prog["variants"].items():
            if cell["status"] != "ok":
                row = [NA] * 6 + [cell["status"]]
            else:
                row = [
                    _fmt(cell["time_per_iter_s"], ".4g"),
                    _fmt(cell["throughput"], ".4g", f" {prog['unit']}"),
                    _fmt(cell["speedup_vs_numpy"], ".2f", "x"),
                    _fmt(cell["peak_rss_mib"], ".0f"),
                    _fmt(cell["rss_vs_numpy"], ".2f", "x"),
                    "—" if prog["bytes_per_point"] is None
                    else _fmt(None if cell["roofline_fraction"] is None
                              else 100 * cell["roofline_fraction"], ".1f", "%"),
                    _check(cell, variant),
                ]
            lines.append("| " + " | ".join(
                [prog["name"], str(prog["size"]), str(prog["iters"]), variant, *row]) + " |")
    return "\n".join(lines)


def micro_table(micro: dict[str, Any]) -> str:
    lines = ["| package | overhead per op (µs) | ratio to NumPy |", "|---|---|---|"]
    for package, entry in micro.get("packages", {}).items():
        ratio = entry.get("ratio_to_numpy")
        lines.append(f"| {package} | {_fmt(entry.get('per_op_us'), '.2f')} "
                     f"| {_fmt(ratio, '.2f', 'x')} |"
                     + ("" if entry.get("status", "ok") == "ok"
                        else f" {entry.get('reason', '')}"))
    return "\n".join(lines)


def _machine(results: dict[str, Any]) -> str:
    m = results["machine"]
    mem = m.get("memory_gib")
    return (f"{m['cpu_model']}, {m['usable_cpus']} usable of {m['logical_cpus']} CPUs, "
            f"{_fmt(mem, '.1f', ' GiB')} memory, load {m.get('load_average')}; "
            f"Python {m['python']}, NumPy {m['numpy']}, Dask {m.get('dask') or NA}, "
            f"hpcarray {m.get('hpcarray') or NA}")


def _stream(results: dict[str, Any]) -> str:
    s = results.get("stream")
    if not s or "best_gbs" not in s:
        return f"STREAM: {NA} ({(s or {}).get('reason', 'not measured')})"
    one = ", ".join(f"{k} {v:.1f}" for k, v in s["single_thread_gbs"].items())
    many = ", ".join(f"{k} {v:.1f}" for k, v in s["all_cores_gbs"].items())
    return (f"STREAM ({s['array_mib']:.0f} MiB arrays, best of {s['reps']}), GB/s — "
            f"1 thread: {one}; {s['threads']} threads: {many}. "
            f"Roofline bandwidth: {s['best_gbs']:.1f} GB/s.")


def _notes(results: dict[str, Any]) -> list[str]:
    notes = []
    for prog in results["programs"]:
        for variant, cell in prog["variants"].items():
            if cell["status"] != "ok":
                notes.append(f"- {prog['name']} / {variant}: {cell['status']} — {cell['reason']}")
    return notes


def markdown(results: dict[str, Any]) -> str:
    """The whole report: machine, bandwidth, the table, the overhead table, notes."""
    parts = [
        f"# hpcarray benchmarks ({'quick' if results['quick'] else 'full'}, "
        f"median of {results['reps']})",
        "",
        f"Machine: {_machine(results)}",
        "",
        _stream(results),
        "",
        results_table(results),
        "",
        "time/iter: median over fresh processes of the timed loop (after warm-up) / iters. "
        "vs NumPy: NumPy time / this time (>1 is faster). peak RSS: ru_maxrss of the "
        "child (for `hpcarray run -n K`, the largest process). roofline: bytes an ideally "
        "fused program must move (per program: "
        + "; ".join(f"{p['name']} {p['bytes_per_point']:.0f} B/pt"
                    for p in results["programs"] if p["bytes_per_point"] is not None)
        + ") / time, as a fraction of the STREAM bandwidth"
        + (" (quick sizes fit in cache, so fractions above 100% are possible)."
           if results["quick"] else "."),
    ]
    if results.get("micro"):
        m = results["micro"]
        parts += ["", f"Per-operation overhead: {m['ops']} elementwise ops on a "
                      f"{m['shape']}x{m['shape']} array.", "", micro_table(m)]
    notes = _notes(results)
    if notes:
        parts += ["", "Not measured:", *notes]
    return "\n".join(parts) + "\n"


def write(results: dict[str, Any], out_dir: Path, stamp: str) -> tuple[Path, Path]:
    """Write ``bench-<stamp>.json`` and ``.md`` (and ``latest.*`` copies) to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text_json = json.dumps(results, indent=2, sort_keys=False) + "\n"
    text_md = markdown(results)
    json_path, md_path = out_dir / f"bench-{stamp}.json", out_dir / f"bench-{stamp}.md"
    for path, text in ((json_path, text_json), (md_path, text_md),
                       (out_dir / "latest.json", text_json), (out_dir / "latest.md", text_md)):
        path.write_text(text)
    return json_path, md_path
