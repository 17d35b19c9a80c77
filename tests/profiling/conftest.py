"""Profiling tests: the slow marker, the chromium fixture."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # prof_synth, prof_helpers

from prof_helpers import find_chromium  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running check, run with HPCARRAY_RUN_SLOW=1")
    config.addinivalue_line("markers", "browser: needs headless Chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if os.environ.get("HPCARRAY_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow check: set HPCARRAY_RUN_SLOW=1 to run it")
    here = Path(__file__).parent
    for item in items:  # only this directory's slow tests: others decide for themselves
        if "slow" in item.keywords and here in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("headless Chromium not found (Debian: apt-get install chromium); "
                    "the browser tests need it")
    return path


