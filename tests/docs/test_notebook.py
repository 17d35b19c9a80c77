"""docs/notebooks/stencil.ipynb runs from top to bottom (nbclient, a real kernel): it plots
the grid and embeds the timeline of a profiled 2-rank run."""

from __future__ import annotations

import html
from pathlib import Path

import nbclient
import nbformat

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_stencil_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's profile goes here
    path = DOCS / "notebooks" / "stencil.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook without outputs"
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no plot of the grid"
    frames = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert frames and "<iframe srcdoc=" in frames[-1], "no inline timeline"
    timeline = html.unescape(frames[-1])
    assert "plotly" in timeline.lower() and "stencil.py" in timeline
    assert list(tmp_path.glob("stencil-prof-*/trace.1.jsonl")), "the run was not at 2 ranks"
