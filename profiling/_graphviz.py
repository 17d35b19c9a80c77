"""Writing .dot files and rendering them to PDF with Graphviz's ``dot``."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import graphviz

from ._fmt import short_name

INSTALL_HINT = "install Graphviz (Debian/Ubuntu: apt-get install graphviz)"
DOT_TIMEOUT = float(os.environ.get("HPCARRAY_DOT_TIMEOUT", "120"))


@dataclass
class GraphFiles:
    dot: Path
    pdf: Path | None
    message: str | None = None  # why there is no PDF, and how to get one


def hl(text: object, limit: int = 60) -> str:
    """Text for inside an HTML-like Graphviz label: shortened and entity-escaped."""
    return html.escape(short_name(str(text), limit), quote=True)


def label(*rows: str, bold_first: bool = True) -> str:
    """An HTML-like label from already-escaped rows (see :func:`hl`)."""
    parts = [f"<B>{r}</B>" if i == 0 and bold_first else r for i, r in enumerate(rows) if r]
    return "<" + "<BR/>".join(parts) + ">"


def write_graph(g: graphviz.Digraph, out_dir: Path, stem: str, *, pdf: bool = True,
                timeout: float = DOT_TIMEOUT) -> GraphFiles:
    """Save ``<stem>.dot`` with the graphviz package; render ``<stem>.pdf`` with Graphviz's
    ``dot`` when asked and available (within ``timeout`` seconds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dot_path = out_dir / f"{stem}.dot"
    g.save(filename=dot_path.name, directory=str(out_dir))
    if not pdf:
        return GraphFiles(dot_path, None, None)
    pdf_path = out_dir / f"{stem}.pdf"
    how = f"dot -Tpdf {dot_path} -o {pdf_path}"
    if shutil.which("dot") is None:
        return GraphFiles(dot_path, None,
                          f"Graphviz 'dot' not found: wrote {dot_path}; to get the PDF, "
                          f"{INSTALL_HINT} and run: {how}")
    # dot itself, with a time limit: a dense graph can keep dot busy for many minutes, and
    # this runs at program exit (graphviz.render has no timeout)
    try:
        subprocess.run(["dot", "-Tpdf", str(dot_path), "-o", str(pdf_path)], check=True,
                       capture_output=True, timeout=timeout)
    except FileNotFoundError:
        return GraphFiles(dot_path, None, f"Graphviz 'dot' not found; {INSTALL_HINT}, then {how}")
    except subprocess.TimeoutExpired:
        pdf_path.unlink(missing_ok=True)
        return GraphFiles(dot_path, None,
                          f"dot took over {timeout:.0f} s on {dot_path}; narrow the profile "
                          f"(hpcarray profile DIR --start S --end S --ranks R) or run: {how}")
    except (subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", b"") or b""
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or [str(e)]
        return GraphFiles(dot_path, None, f"dot failed on {dot_path} ({detail[0]}); try: {how}")
    return GraphFiles(dot_path, pdf_path, None)
