"""The documentation site builds with warnings as errors, and its profiling pictures can
be remade from a real run by docs/make_pictures.sh."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

PICTURES = ("timeline.png", "dataflow.png", "event_graph.png")


def test_site_builds_strict(tmp_path: Path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's banner, not ours
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                        "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    site = tmp_path / "site"
    for page in ("api", "machines", "profiling", "design", "numpy", "performance"):
        assert (site / page / "index.html").is_file(), page
    for pic in PICTURES:
        assert (site / "img" / pic).is_file()
    assert (site / "notebooks" / "stencil.ipynb").is_file()
    assert not list(site.rglob("*.py")) and not list(site.rglob("*.sh"))


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_committed_pictures_are_small_pngs():
    for pic in PICTURES:
        path = DOCS / "img" / pic
        assert path.stat().st_size < 400_000, f"{pic}: keep the committed pictures small"
        w, h = _png_size(path)
        assert 300 < w < 3000 and 300 < h < 3000, (pic, w, h)


@pytest.mark.browser
def test_make_pictures_from_a_real_run(tmp_path: Path):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")) \
            or not shutil.which("pdftoppm"):
        pytest.skip("needs chromium and pdftoppm (scripts/setup.sh installs them as root)")
    r = subprocess.run(["bash", str(DOCS / "make_pictures.sh"), str(tmp_path)],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    for pic in PICTURES:
        w, h = _png_size(tmp_path / pic)
        assert w > 300 and h > 300, (pic, w, h)
