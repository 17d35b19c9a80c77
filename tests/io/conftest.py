"""Sharded I/O tests. They run at 1 rank here and again inside 2 and 3 MPI ranks
(tests/mpi/test_io_mpi.py), where every rank runs the same tests in the same order: files
then live in one directory that all ranks share (rank 0's), and files made by NumPy, zarr
or h5py as references are made by rank 0 alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpcarray.runtime import get_runtime


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A directory every rank sees: rank 0's tmp_path."""
    return Path(get_runtime().comm.allgather_obj(str(tmp_path))[0])


@pytest.fixture(scope="module")
def shared_module(tmp_path_factory) -> Path:
    """The same, once per module (hypothesis tests take no function-scoped fixtures)."""
    return Path(get_runtime().comm.allgather_obj(str(tmp_path_factory.mktemp("io")))[0])
