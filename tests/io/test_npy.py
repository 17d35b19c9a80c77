""".npy and raw binary files, sharded: the files are NumPy's byte for byte, NumPy's files
load bit for bit, errors name the file, and a failed write leaves nothing behind."""

from __future__ import annotations

import io
import resource
import signal

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from iotools import DTYPES, computed, rank0, same, values

import hpcarray as hp
from hpcarray.runtime import get_runtime

SHAPES = st.lists(st.integers(0, 7), min_size=0, max_size=3).map(tuple)
LAYOUTS = st.sampled_from(["C", "F", "view"])


def arrange(hp, shape, dtype, layout):
    """(hpcarray array, the NumPy array it equals) in the layout asked for."""
    x = values(shape, dtype)
    a = computed(hp, x)
    if layout == "F":
        return a.T, x.T
    if layout == "view" and x.ndim:
        return a[::-1, ...], x[::-1, ...]
    return a, x


@given(shape=SHAPES, dtype=st.sampled_from(DTYPES), layout=LAYOUTS)
def test_save_writes_numpys_bytes_and_load_reads_them_back(shared_module, shape, dtype,
                                                           layout):
    shared = shared_module
    a, x = arrange(hp, shape, dtype, layout)
    rank = get_runtime().rank
    hp.save(shared / "a.npy", a)
    numpy.save(shared / f"ref{rank}.npy", x)
    assert (shared / "a.npy").read_bytes() == (shared / f"ref{rank}.npy").read_bytes()
    got = hp.load(shared / "a.npy")
    assert isinstance(got, hp.ndarray)
    same(got, numpy.load(shared / f"ref{rank}.npy"))


@pytest.mark.parametrize("dtype", [">f8", "<i4", ">c16", "|b1", ">u2"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_load_files_numpy_wrote(shared, dtype, order):
    x = numpy.asarray(values((5, 7), dtype.lstrip("<>|")), dtype=dtype, order=order)
    rank0(lambda: numpy.save(shared / "n.npy", x))
    got = hp.load(shared / "n.npy")
    want = numpy.load(shared / "n.npy")
    assert got.dtype == want.dtype.newbyteorder("=")  # hpcarray holds native byte order
    same(got, want.astype(got.dtype))


def test_numpy_save_dispatches_here(shared):
    a = computed(hp, values((6, 4), "float64"))
    numpy.save(shared / "d.npy", a)  # __array_function__: hpcarray.save
    same(hp.load(shared / "d.npy"), numpy.asarray(a))


def test_suffix_added_as_numpy_adds_it(shared):
    a = computed(hp, values((3,), "int64"))
    hp.save(str(shared / "noext"), a)
    assert (shared / "noext.npy").exists()


def test_several_arrays_in_one_open_file(shared):
    x, y = values((9, 2), "float32"), values((4,), "int8", 1)
    with open(shared / "two.npy", "wb") as f:
        hp.save(f, computed(hp, x))
        hp.save(f, computed(hp, y))
        end = f.tell()
    assert end == (shared / "two.npy").stat().st_size
    with open(shared / "two.npy", "rb") as f:
        same(hp.load(f), x)
        same(hp.load(f), y)
        assert f.tell() == end
        f.seek(0)
        same(numpy.load(f), x)  # NumPy reads what hpcarray wrote, in order
        same(numpy.load(f), y)


def test_in_memory_file():
    x = values((5, 3), "complex64")
    buf = io.BytesIO()
    hp.save(buf, computed(hp, x))
    buf.seek(0)
    same(numpy.load(buf), x)
    buf.seek(0)
    same(hp.load(buf), x)


def test_mmap_modes(shared):
    x = values((8, 3), "float64")
    rank0(lambda: numpy.save(shared / "m.npy", x))
    r = hp.load(shared / "m.npy", mmap_mode="r")
    same(r, x)
    with pytest.raises(ValueError, match="read-only"):
        r[0, 0] = 1
    c = hp.load(shared / "m.npy", mmap_mode="c")
    c[0, 0] = 5
    same(hp.load(shared / "m.npy"), x)  # copy-on-write: the file is unchanged
    m = hp.load(shared / "m.npy", mmap_mode="r+")
    assert isinstance(m, numpy.memmap)  # writes reach the file: NumPy's own memmap


def test_what_hpcarray_does_not_hold_is_numpys(shared):
    rank = get_runtime().rank
    obj = numpy.array([{"a": 1}, None], dtype=object)
    hp.save(shared / f"o{rank}.npy", obj)  # a NumPy array: NumPy's save
    with pytest.raises(ValueError, match="allow_pickle"):
        hp.load(shared / f"o{rank}.npy")
    got = hp.load(shared / f"o{rank}.npy", allow_pickle=True)
    assert got.dtype == object and got[0] == {"a": 1}
    strings = numpy.array(["ab", "c"])
    rank0(lambda: numpy.save(shared / "s.npy", strings))
    assert (hp.load(shared / "s.npy") == strings).all()


def test_truncated_npy_names_the_file(shared):
    rank0(lambda: numpy.save(shared / "t.npy", numpy.arange(100.0)))
    rank0(lambda: (shared / "short.npy").write_bytes((shared / "t.npy").read_bytes()[:-8]))
    with pytest.raises(ValueError, match=r"short\.npy: Failed to read all data.*could only "
                                         r"read 99 elements"):
        hp.load(shared / "short.npy")


def test_tofile_and_fromfile(shared):
    x = values((6, 5), "int16")
    a = computed(hp, x)
    a.T.tofile(shared / "r.bin")
    assert (shared / "r.bin").read_bytes() == x.T.tobytes()  # C order, as NumPy writes
    same(hp.fromfile(shared / "r.bin", dtype="int16"), x.T.ravel())
    same(hp.fromfile(shared / "r.bin", dtype="int16", count=7, offset=4),
         x.T.ravel()[2:9])
    same(hp.fromfile(shared / "r.bin", dtype="int16", count=1000), x.T.ravel())
    with open(shared / "r.bin", "rb") as f:
        f.read(6)
        same(hp.fromfile(f, dtype="int16", count=4), x.T.ravel()[3:7])
        assert f.tell() == 14


def test_text_files_are_numpys(shared):
    x = values((4,), "float64")
    computed(hp, x).tofile(shared / "t.txt", sep=",")
    same(hp.fromfile(shared / "t.txt", sep=","), numpy.fromfile(shared / "t.txt", sep=","))


def test_fromfile_errors_are_numpys(shared):
    rank0(lambda: numpy.arange(10.0).tofile(shared / "e.bin"))
    with pytest.raises(ValueError, match="negative dimensions"):
        hp.fromfile(shared / "e.bin", offset=88)
    with pytest.raises(io.UnsupportedOperation):
        hp.fromfile(io.BytesIO(b"12345678"))


def test_a_failed_write_leaves_no_file_and_the_old_one_intact(shared):
    """A real failure: the last rank may write no more than 1 KiB per file (RLIMIT_FSIZE,
    with SIGXFSZ ignored so the write fails with EFBIG). At one rank it fails while
    creating the file, at several while the ranks write their tiles."""
    rt = get_runtime()
    old = values((4,), "int8")
    hp.save(shared / "f.npy", computed(hp, old))
    a = computed(hp, values((64, 64), "float64"))
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if rt.rank == rt.nranks - 1:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, limits[1]))
    try:
        with pytest.raises(OSError, match=r"f\.npy"):
            hp.save(shared / "f.npy", a)
        with pytest.raises(OSError, match=r"g\.bin"):
            a.tofile(shared / "g.bin")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    rt.comm.barrier()
    assert sorted(p.name for p in shared.iterdir() if not p.name.startswith("ref")) \
        == ["f.npy"]
    same(hp.load(shared / "f.npy"), old)


def test_nothing_is_gathered(shared):
    """Saving and loading move no tile between ranks (rt.sent counts the bytes this rank
    sent to others)."""
    rt = get_runtime()
    a = computed(hp, values((40, 30), "float64"))
    float(a[0, 0] + a[-1, -1])  # a small sync: a is computed on every rank
    before = list(rt.sent)
    hp.save(shared / "g.npy", a)
    a.tofile(shared / "g.bin")
    b = hp.load(shared / "g.npy")
    c = hp.fromfile(shared / "g.bin")
    rt.sync()
    assert rt.sent == before
    same(b, numpy.asarray(a))
    same(c, numpy.asarray(a).ravel())


def test_devices_and_links_are_written_as_numpy_writes_them(shared):
    """A device is written in place (never replaced by a renamed file), a symbolic link
    is written through (its file replaced, the link kept)."""
    import os
    import stat

    a = computed(hp, values((5, 4), "float64"))
    a.tofile(os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    (shared / "real").mkdir(exist_ok=True)
    rank0(lambda: (shared / "link.npy").symlink_to(shared / "real" / "target.npy"))
    hp.save(shared / "link.npy", a)
    assert (shared / "link.npy").is_symlink()
    same(hp.load(shared / "real" / "target.npy"), numpy.asarray(a))


def test_tofile_needs_a_real_file_as_numpy_does():
    with pytest.raises(io.UnsupportedOperation):
        computed(hp, values((3,), "int8")).tofile(io.BytesIO())
