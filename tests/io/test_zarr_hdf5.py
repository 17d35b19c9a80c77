"""Zarr and HDF5, sharded: each rank writes the chunks or hyperslabs of its own tiles, and
the ordinary zarr and h5py read the result; what they wrote is read back the same."""

from __future__ import annotations

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from iotools import DTYPES, computed, rank0, same, values

import hpcarray as hp
from hpcarray.runtime import get_runtime

zarr = pytest.importorskip("zarr")
h5py = pytest.importorskip("h5py")

SHAPES = st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple)


@given(shape=SHAPES, dtype=st.sampled_from(DTYPES))
def test_zarr_round_trip(shared_module, shape, dtype):
    x = values(shape, dtype)
    hp.io.to_zarr(computed(hp, x), shared_module / "a.zarr", overwrite=True)
    z = zarr.open_array(shared_module / "a.zarr", mode="r")
    same(numpy.asarray(z[...]), x)
    same(hp.io.from_zarr(shared_module / "a.zarr"), x)


@given(shape=SHAPES, dtype=st.sampled_from(DTYPES))
def test_hdf5_round_trip(shared_module, shape, dtype):
    x = values(shape, dtype)
    hp.io.to_hdf5(computed(hp, x), shared_module / "a.h5", "x")
    with h5py.File(shared_module / "a.h5", "r") as f:
        same(f["x"][()], x)
    same(hp.io.from_hdf5(shared_module / "a.h5", "x"), x)


def test_zarr_chunks_lie_in_tiles(shared):
    a = computed(hp, values((23, 17), "float64"))
    hp.io.to_zarr(a, shared / "c.zarr")
    chunks = zarr.open_array(shared / "c.zarr", mode="r").chunks
    rt = get_runtime()
    tiles = [r for rs in rt.comm.allgather_obj(rt.own_rects(a._v.store)) for r in rs]
    for rect in tiles:
        for (lo, hi), c, n in zip(rect, chunks, a.shape):
            assert lo % c == 0 and (hi % c == 0 or hi == n)


def test_zarr_exists_and_overwrite(shared):
    a = computed(hp, values((5,), "int32"))
    hp.io.to_zarr(a, shared / "e.zarr")
    with pytest.raises(FileExistsError, match=r"e\.zarr"):
        hp.io.to_zarr(a * 2, shared / "e.zarr")
    same(hp.io.from_zarr(shared / "e.zarr"), numpy.asarray(a))
    hp.io.to_zarr(a * 2, shared / "e.zarr", overwrite=True)
    same(hp.io.from_zarr(shared / "e.zarr"), numpy.asarray(a * 2))
    assert sorted(p.name for p in shared.iterdir()) == ["e.zarr"]


def test_read_what_zarr_and_h5py_wrote(shared):
    x = values((11, 7), "complex64")

    def make():
        z = zarr.create_array(store=shared / "n.zarr", shape=x.shape, chunks=(4, 3),
                              dtype=x.dtype)
        z[...] = x
        with h5py.File(shared / "n.h5", "w") as f:
            f.create_dataset("g/x", data=x, chunks=(3, 7), compression="gzip")

    rank0(make)
    same(hp.io.from_zarr(shared / "n.zarr"), x)
    same(hp.io.from_hdf5(shared / "n.h5", "g/x"), x)


def test_hdf5_errors_name_the_file(shared):
    x = numpy.arange(1000.0)
    rank0(lambda: _h5(shared / "t.h5", x))
    with pytest.raises(KeyError, match=r"t\.h5: no dataset 'y'"):
        hp.io.from_hdf5(shared / "t.h5", "y")
    rank0(lambda: (shared / "cut.h5").write_bytes((shared / "t.h5").read_bytes()[:3000]))
    with pytest.raises(OSError, match=r"cut\.h5: .*truncated"):
        hp.io.from_hdf5(shared / "cut.h5", "x")


def _h5(path, x) -> None:
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=x)


def test_a_failed_hdf5_write_leaves_nothing(shared):
    """h5py's own error (an option it refuses) while creating the dataset: no file."""
    with pytest.raises(ValueError):
        hp.io.to_hdf5(computed(hp, values((4, 4), "int8")), shared / "f.h5", "x",
                      chunks=(9, 9, 9))
    assert list(shared.iterdir()) == []
