"""Test session settings: the forced-tiling test mode is on for every test, so every
operation runs on several small, uneven tiles (the distributed code paths)."""

import os

os.environ.setdefault("HPCARRAY_TEST", "1")
os.environ.setdefault("HPCARRAY_WORKERS", "2")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# HPCARRAY_TEST_GPU_DOUBLE=1: every runtime this session starts computes on the GPU
# backend over a TEST DOUBLE of CuPy (tests/gpu_double: no GPU can run here), so tile
# memory is device arrays that NumPy cannot take implicitly. Read here only.
if os.environ.get("HPCARRAY_TEST_GPU_DOUBLE") == "1":
    from hpcarray.runtime import backend as _backend  # noqa: E402
    from tests.gpu_double import backend as _double  # noqa: E402

    _backend.select = _double.select

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Under mpiexec every rank runs the same tests, so every rank must draw the same examples.
settings.register_profile(
    "mpi", max_examples=8, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)


def _under_mpi() -> bool:
    from hpcarray.runtime.comm import launched_by_mpi

    return launched_by_mpi()


UNDER_MPI = _under_mpi()
if UNDER_MPI:
    settings.load_profile("mpi")
else:
    settings.load_profile(
        os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_collection_modifyitems(config, items):
    if not UNDER_MPI:
        return
    skip = pytest.mark.skip(reason="starts its own processes: not run inside an MPI rank")
    for item in items:
        if item.get_closest_marker("no_mpi"):
            item.add_marker(skip)


@pytest.fixture
def hp():
    import hpcarray

    return hpcarray
