""".npz archives, sharded: what hpcarray writes NumPy reads and the other way round, with
members stored or deflated, hpcarray arrays or not."""

from __future__ import annotations

import io
import zipfile

import numpy
import pytest
from iotools import computed, rank0, same, values

import hpcarray as hp
from hpcarray.runtime import get_runtime


@pytest.mark.parametrize("compress", [False, True])
def test_savez_is_read_by_numpy_and_back(shared, compress):
    x, y = values((7, 5), "float32"), values((3, 4, 2), "complex128", 1)
    save = hp.savez_compressed if compress else hp.savez
    save(shared / "a", computed(hp, x), y=computed(hp, y).T, n=numpy.arange(3), s="text")
    with zipfile.ZipFile(shared / "a.npz") as zf:
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        assert {i.compress_type for i in zf.infolist()} == {method}
    with numpy.load(shared / "a.npz") as z:
        assert z.files == ["y", "n", "s", "arr_0"]
        same(z["arr_0"], x)
        same(z["y"], y.T)
        assert z["s"] == "text"
    with hp.load(shared / "a.npz") as z:
        assert isinstance(z, numpy.lib.npyio.NpzFile)
        same(z["arr_0"], x)
        same(z["y"], y.T)
        assert isinstance(z["arr_0"], hp.ndarray)
        same(z["n"], numpy.arange(3))
    assert sorted(p.name for p in shared.iterdir()) == ["a.npz"]  # no temporaries left


@pytest.mark.parametrize("compress", [False, True])
def test_load_archives_numpy_wrote(shared, compress):
    x, y = values((9, 4), "int8"), values((), "float64", 2)
    save = numpy.savez_compressed if compress else numpy.savez
    rank0(lambda: save(shared / "n.npz", x, y=y, f=numpy.asfortranarray(x)))
    with hp.load(shared / "n.npz") as z:
        same(z["arr_0"], x)
        same(z["y"], y)
        same(z["f"], numpy.asfortranarray(x))
        with pytest.raises(KeyError, match="not a file in the archive"):
            z["missing"]


def test_numpy_arrays_alone_are_numpys(shared):
    rank = get_runtime().rank
    hp.savez(shared / f"p{rank}.npz", o=numpy.array([None, 1], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        hp.load(shared / f"p{rank}.npz")["o"]
    with pytest.raises(ValueError, match="Cannot use un-named variables and keyword arr_0"):
        hp.savez(shared / "x.npz", computed(hp, values((2,), "int8")), arr_0=1)


def test_in_memory_archive():
    x = values((6, 3), "uint16")
    buf = io.BytesIO()
    hp.savez(buf, a=computed(hp, x))
    buf.seek(0)
    same(numpy.load(buf)["a"], x)
    buf.seek(0)
    same(hp.load(buf)["a"], x)


def test_truncated_member_names_the_archive(shared):
    """A stored member whose .npy data ends early (a cut .npy put in a zip)."""
    def make():
        buf = io.BytesIO()
        numpy.save(buf, numpy.arange(50.0))
        with zipfile.ZipFile(shared / "short.npz", "w") as zf:
            zf.writestr("a.npy", buf.getvalue()[:-8])

    rank0(make)
    with pytest.raises(ValueError, match=r"short\.npz\[a\.npy\]: Failed to read all data.*"
                                         r"could only read 49 elements"):
        hp.load(shared / "short.npz")["a"]
