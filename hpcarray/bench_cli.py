"""`hpcarray bench`: the benchmark suite (benchmarks/, run from a source checkout)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run the benchmarks (NumPy, Dask, hpcarray) -> one table",
                       add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER, help="options for benchmarks (--help)")
    p.set_defaults(func=run_bench, passthrough=True)


def run_bench(args: argparse.Namespace) -> int:
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "benchmarks" / "runner.py").exists():
        sys.path.insert(0, str(checkout))
    try:
        from benchmarks.runner import main
    except ImportError:
        print("hpcarray bench: error: benchmarks/ is part of the source checkout; run it "
              "from a clone of the repository", file=sys.stderr)
        return 2
    return int(main(args.args) or 0)
