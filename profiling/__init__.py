"""Profiling: HTML timeline, NVTX ranges, dataflow and event graphs from recorded traces.

Light to import: the renderers (plotly, graphviz) load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["render_all"]


def render_all(profile_dir: str | Path, **kwargs: object) -> str:
    """See :func:`hpcarray.profiling.render.render_all`."""
    from .render import render_all as _render_all

    return _render_all(profile_dir, **kwargs)  # type: ignore[arg-type]
