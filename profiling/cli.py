"""`hpcarray profile DIR`: re-render the timeline, summary and graphs of a saved profile."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "profile",
        help="re-render timeline.html, the summary and the graphs from a profile directory",
        description="Re-render timeline.html, the text summary, and the dataflow and event "
        "graphs (.dot and .pdf) from the trace.<rank>.jsonl files of a profile directory.",
    )
    p.add_argument("dir", help="profile directory (holds trace.<rank>.jsonl)")
    p.add_argument("--start", type=float, default=None, metavar="S",
                   help="keep tasks ending after S seconds from the start of the run")
    p.add_argument("--end", type=float, default=None, metavar="S",
                   help="keep tasks starting before S seconds from the start of the run")
    p.add_argument("--ranks", default=None, metavar="LIST", help="ranks to keep, e.g. 0,1")
    p.add_argument("--no-pdf", action="store_true", help="write the .dot files only")
    p.add_argument("--max-bars", type=int, default=50_000, metavar="N",
                   help="merge short bars beyond N bars in the timeline (default 50000)")
    p.set_defaults(func=run)
    return p


def _ranks(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        out = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise ValueError(f"--ranks wants comma-separated rank numbers, got {text!r}") from None
    if not out or min(out) < 0:
        raise ValueError(f"--ranks wants comma-separated rank numbers, got {text!r}")
    return out


def run(args: argparse.Namespace) -> int:
    from .render import render_all
    from .trace_reader import TraceError

    try:
        ranks = _ranks(args.ranks)
        if args.start is not None and args.end is not None and args.end <= args.start:
            raise ValueError("--end must be after --start")
        if args.max_bars < 1:
            raise ValueError("--max-bars must be positive")
        text = render_all(args.dir, timeline=True, dataflow=True, event=True,
                          pdf=not args.no_pdf, start=args.start, end=args.end, ranks=ranks,
                          max_bars=args.max_bars)
    except (TraceError, ValueError, OSError) as e:
        print(f"hpcarray profile: error: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m hpcarray.profiling.cli DIR ...``."""
    parser = argparse.ArgumentParser(prog="hpcarray")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["profile", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
