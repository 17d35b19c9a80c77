"""Test session settings: the forced-tiling test mode is on for every test, so every
operation runs on several small, uneven tiles (the distributed code paths)."""

import os

os.environ.setdefault("HPCARRAY_TEST", "1")
os.environ.setdefault("HPCARRAY_WORKERS", "2")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def hp():
    import hpcarray

    return hpcarray
