"""Small formatting helpers shared by the renderers."""

from __future__ import annotations

import re

# A qualitative palette (colour-blind friendly first, then more): op colours are stable per name.
PALETTE = [
    "#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
    "#EE7733", "#0077BB", "#33BBEE", "#009988", "#CC3311", "#EE3377", "#882255",
    "#44AA99", "#999933", "#DDCC77", "#117733", "#332288", "#88CCEE",
]


def fmt_ns(ns: float) -> str:
    """A duration in ns as a short human string: 850 ns, 12.3 µs, 4.56 ms, 7.89 s."""
    ns = float(ns)
    a = abs(ns)
    if a < 1e3:
        return f"{ns:.0f} ns"
    if a < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if a < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.4g} s"


def short_name(name: str, limit: int) -> str:
    """An operation's name in at most ``limit`` characters, its end kept: the member list
    of 'fused(add,add,...,assign) halo' is cut, not the ' halo' that tells it apart."""
    if len(name) <= limit:
        return name
    head, paren, tail = name.rpartition(")")
    if paren and "(" in head and len(tail) + 8 <= limit:
        keep = head[:limit - len(tail) - 2]
        cut = keep.rfind(",")
        if cut > keep.find("("):
            keep = keep[:cut + 1]
        return f"{keep}…){tail}"
    return name[:limit - 1] + "…"


def fmt_bytes(n: float) -> str:
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"


def fmt_peer(e) -> str:
    """The other side of a copy event: one rank, or all of them (a collective)."""
    if e.side == "all":
        return "with all ranks"
    return f"→ rank {e.dst}" if e.side == "send" else f"← rank {e.src}"


def fmt_rect(rect: object) -> str:
    """[[0,50],[0,100]] -> '[0:50, 0:100]'; anything else as its repr."""
    try:
        return "[" + ", ".join(f"{int(a)}:{int(b)}" for a, b in rect) + "]"  # type: ignore
    except (TypeError, ValueError):
        return "" if rect is None else str(rect)


def safe_stem(script: str) -> str:
    """File-name-safe stem of a script path: 'dir/stencil.py' -> 'stencil'."""
    base = re.split(r"[\\/]", script or "program")[-1]
    if base.endswith(".py"):
        base = base[:-3]
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("._") or "program"
    return base[:80]
