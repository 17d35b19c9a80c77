"""Helpers for the profiling tests: headless Chromium and pdfinfo."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--enable-unsafe-swiftshader",  # software WebGL for Scattergl (newer Chromium asks for it)
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None



def dump_dom(chromium: str, html: Path, timeout: float = 120,
             extra: tuple[str, ...] = ()) -> tuple[str, float]:
    """Load the page headless; return the DOM after its scripts ran and the wall seconds."""
    profile = tempfile.mkdtemp(prefix="hpc-chromium-")
    try:
        t = time.perf_counter()
        res = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             *extra, "--dump-dom", html.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout,
        )
        wall = time.perf_counter() - t
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, wall


def status_attrs(dom: str) -> dict[str, str]:
    """The data-* attributes of the timeline's #hpc-status element."""
    m = re.search(r'<div id="hpc-status"([^>]*)>', dom)
    assert m, "status element not found in the dumped DOM"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', m.group(1)))


def pdf_pages(pdf: Path) -> int:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo not found (Debian: apt-get install poppler-utils)")
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    m = re.search(r"^Pages:\s+(\d+)", out.stdout, re.M)
    assert m, out.stdout
    return int(m.group(1))
