"""The `hpcarray` command: run, submit, jobs, profile, bench.

Each concern registers its own subcommand; this module only assembles them, so that
jobs/ and profiling/ own their command lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hpcarray import __version__


def _register_run(sub: argparse._SubParsersAction) -> None:
    from hpcarray import launch

    launch.register(sub)


def _register_optional(sub: argparse._SubParsersAction, module: str) -> None:
    """Register the subcommands of an optional part (jobs, profiling, benchmarks)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    register = getattr(mod, "register", None)
    if register is not None:
        register(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpcarray",
        description="Run NumPy programs on tiles, tasks, threads, ranks and clusters.",
    )
    parser.add_argument("--version", action="version", version=f"hpcarray {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_run(sub)
    for module in ("hpcarray.jobs.cli", "hpcarray.profiling.cli", "hpcarray.bench_cli"):
        _register_optional(sub, module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from hpcarray.launch import profile_before_script

    parser = build_parser()
    argv = profile_before_script(list(sys.argv[1:] if argv is None else argv))
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not getattr(args, "passthrough", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.args = [*extra, *args.args]
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
