"""`bash scripts/setup.sh` (in this checkout, whose .venv runs the tests): a new user sees a
few lines, and the build has nothing to warn about in pyproject.toml (setuptools printed
screens about the license table and the package-dir mapping)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.no_mpi
def test_setup_is_quiet_and_pyproject_clean() -> None:
    res = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = (res.stdout + res.stderr).strip().splitlines()
    assert len(lines) <= 4 and lines[-1].startswith("setup: done (hpcarray "), lines
    log = (ROOT / ".venv" / "setup-pip.log").read_text()
    warnings = re.findall(r"(\w*Warning): (.*)", log)
    # setuptools says this of every editable install of a flat layout
    assert [w for w in warnings if w[1] != "Editable installation."] == [], warnings
    assert "absent from the `packages` configuration" not in log
