""".npy files and raw binary files (`save`, `load`, `tofile`, `fromfile`), sharded: rank 0
writes the header, every rank writes and reads only the C-order runs of its own tiles at
their offsets in the file; nothing is gathered.

A Fortran-ordered array (`a.T` of a C-ordered one) is saved as NumPy saves it: the header
says fortran_order and the data is its transpose's C order; such a file loads as the
transpose of a C-ordered array, as NumPy loads it. What hpcarray does not hold natively
(NumPy's own arrays, object or structured data, pickles, text files, `mmap_mode="r+"` or
`"w+"`, whose writes must reach the file) is NumPy's call, exactly as NumPy makes it.
"""

from __future__ import annotations

import io
import math
import os

import numpy as np
from numpy.lib import format as npformat

from hpcarray.io import _files, _tiles

_MAGIC = npformat.MAGIC_PREFIX
_ZIP_PREFIXES = (b"PK\x03\x04", b"PK\x05\x06")  # what numpy.load takes for an .npz
_MAX_HEADER_SIZE = 10000  # numpy.lib.format._MAX_HEADER_SIZE


def _is_array(x) -> bool:
    from hpcarray._api.convert import is_array

    return is_array(x)


def _numpy(name: str, func, *args, **kwargs):
    """NumPy's function on gathered arguments, hpcarray arrays back (the fallback)."""
    from hpcarray._fallback import call_numpy

    return call_numpy(func, name, args, kwargs)


# -- writing ----------------------------------------------------------------------------


def header_bytes(shape: tuple[int, ...], dtype: np.dtype, fortran: bool) -> bytes:
    """The .npy header NumPy writes for such an array (the same version, padding, bytes)."""
    d = {"descr": npformat.dtype_to_descr(dtype), "fortran_order": fortran, "shape": shape}
    buf = io.BytesIO()
    try:
        npformat.write_array_header_1_0(buf, d)
    except ValueError:  # too long for version 1.0: NumPy takes 2.0, and says so
        import warnings

        warnings.warn("Stored array in format 2.0. It can only be read by NumPy >= 1.9",
                      UserWarning, stacklevel=3)
        buf = io.BytesIO()
        npformat.write_array_header_2_0(buf, d)
    return buf.getvalue()


def layout(a):
    """(C-ordered array whose data is the file's, Fortran order?) for an hpcarray array."""
    flags = a._np.flags
    fortran = flags.f_contiguous and not flags.c_contiguous
    return (a.T if fortran else a), fortran


def write_array(file, a, header: bytes, numpy_way) -> None:
    """Collective: `header` then a's C-order data, each rank writing its own tiles."""
    store, keep = _tiles.source_store(a)
    pieces = _tiles.pieces(store, _tiles.writer_rects(store))
    nbytes = math.prod(store.shape) * store.dtype.itemsize
    _files.write_file(file, header, pieces, nbytes, numpy_way)
    del keep


def save(file, arr, allow_pickle: bool = True, **kwargs) -> None:
    """numpy.save: an hpcarray array is written in place by the ranks that hold it."""
    if _files.is_path(file):
        file = os.fspath(file)
        if not file.endswith(".npy"):
            file += ".npy"
    if not _is_array(arr):
        _files.write_whole(file, lambda f: np.save(f, arr, allow_pickle, **kwargs))
        return
    src, fortran = layout(arr)
    header = header_bytes(arr.shape, arr.dtype, fortran)
    write_array(file, src, header, lambda: _numpy("save", np.save, file, arr, allow_pickle,
                                                  **kwargs))


def tofile(a, fid, sep: str = "", format: str = "%s") -> None:
    """ndarray.tofile: binary files are written in place by the ranks (C order, as NumPy
    writes them); text (`sep`) goes through NumPy."""
    from hpcarray._api.convert import to_numpy
    from hpcarray._fallback import fallback_function

    def numpy_way() -> None:
        fallback_function(to_numpy(a).tofile, "ndarray.tofile")(fid, sep, format)

    if not (_files.is_path(fid) or _has_fileno(fid)):
        numpy_way()  # NumPy's error: tofile needs a real file
        return
    if sep != "":
        x = to_numpy(a)  # (a collective: before only rank 0 goes on to write)
        _files.write_whole(fid, lambda f: fallback_function(x.tofile, "ndarray.tofile")(
            f, sep, format))
        return
    write_array(fid, a, b"", numpy_way)


# -- reading ----------------------------------------------------------------------------


def _truncated(name: str, shape, count: int, got: int) -> ValueError:
    return ValueError(f"{name}: Failed to read all data for array. Expected {shape} = "
                      f"{count} elements, could only read {got} elements. (file seems "
                      "not fully written?)")


def read_array(reader: _files.Reader, start: int, shape: tuple[int, ...], dtype: np.dtype,
               fortran: bool = False):
    """Collective-free: the array whose C-order data (Fortran order: that of its
    transpose) starts at byte `start` of the file; each rank reads its own tiles. An
    error naming the file if the file ends early."""
    from hpcarray._dtypes import check_dtype

    native = check_dtype(dtype)
    count = math.prod(shape)
    available = max(reader.size() - start, 0) // dtype.itemsize
    if available < count:
        raise _truncated(reader.name, shape, count, available)
    store = _tiles.new_store(shape[::-1] if fortran else shape, native)
    rects = _tiles.reader_rects(store)
    reader.read_pieces(start, _tiles.pieces(store, rects))
    if native != dtype:  # the file's byte order is not this machine's
        for rect in rects:
            local = store.local(rect)
            local.byteswap(inplace=True)
    a = _tiles.filled(store)
    return a.T if fortran else a


def read_npy_header(f, max_header_size: int):
    """(shape, fortran_order, dtype) of the .npy header at f's position, read with NumPy's
    own checks; None for a version hpcarray leaves to NumPy."""
    version = npformat.read_magic(f)
    if version == (1, 0):
        return npformat.read_array_header_1_0(f, max_header_size=max_header_size)
    if version == (2, 0):
        return npformat.read_array_header_2_0(f, max_header_size=max_header_size)
    return None


def _held(dtype: np.dtype) -> bool:
    from hpcarray._dtypes import UnsupportedDtype, check_dtype

    try:
        check_dtype(dtype)
    except UnsupportedDtype:
        return False
    return True


def load(file, mmap_mode=None, allow_pickle: bool = False, fix_imports: bool = True,
         encoding: str = "ASCII", *, max_header_size: int = _MAX_HEADER_SIZE):
    """numpy.load: .npy data is read in place by every rank, its own tiles only; an .npz
    gives an NpzFile whose members load the same way. `mmap_mode="r"` gives a read-only
    array, `"c"` a writable one (the file is never changed); `"r+"`/`"w+"` are NumPy's
    memmap, whose writes reach the file."""
    args = (file, mmap_mode, allow_pickle, fix_imports, encoding)
    kw = {"max_header_size": max_header_size}

    def numpy_way():
        return _numpy("load", np.load, *args, **kw)

    readable = _files.is_path(file) or hasattr(file, "read")
    if (mmap_mode not in (None, "r", "c") or not readable
            or (mmap_mode is not None and not _files.is_path(file))):
        return numpy_way()
    if _files.shared(file) is None:
        return numpy_way()
    reader = _files.Reader(file)
    keep_open = False
    try:
        start = reader.f.tell()
        magic = reader.f.read(len(_MAGIC))
        reader.f.seek(start)
        if magic.startswith(_ZIP_PREFIXES):
            from hpcarray.io.npz import NpzFile

            keep_open = True
            return NpzFile(reader.f, own_fid=reader.owned, allow_pickle=allow_pickle,
                           pickle_kwargs={"encoding": encoding, "fix_imports": fix_imports},
                           max_header_size=max_header_size)
        if magic != _MAGIC:
            return numpy_way()  # a pickle, or not NumPy's at all: NumPy's answer
        header = read_npy_header(reader.f, max_header_size)
        if header is None or not _held(header[2]):
            reader.f.seek(start)
            return numpy_way()
        shape, fortran, dtype = header
        data = reader.f.tell()
        a = read_array(reader, data, shape, dtype, fortran)
        if not reader.owned:  # left after the array, as NumPy leaves it
            reader.f.seek(data + math.prod(shape) * dtype.itemsize)
    finally:
        if not keep_open:
            reader.close()
    if mmap_mode == "r":
        a.setflags(write=False)  # a read-only map's values, as np.memmap(mode="r")
    return a


def fromfile(file, dtype=float, count: int = -1, sep: str = "", offset: int = 0, *,
             like=None):
    """numpy.fromfile: binary data is read in place by every rank, its own tiles only;
    text (`sep`) goes through NumPy."""
    def numpy_way():
        return _numpy("fromfile", np.fromfile, file, dtype, count, sep, offset)

    dtype = np.dtype(dtype)
    if (like is not None or sep != "" or not _held(dtype) or offset < 0
            or not (_files.is_path(file) or _has_fileno(file))):
        return numpy_way()  # NumPy's reading, or NumPy's error
    if _files.shared(file) is None:
        return numpy_way()
    reader = _files.Reader(file)
    try:
        start = (0 if reader.owned else reader.f.tell()) + offset
        size = reader.size()
        if start > size:
            return numpy_way()
        available = (size - start) // dtype.itemsize
        n = available if count < 0 else min(count, available)
        a = read_array(reader, start, (n,), dtype)
        if not reader.owned:
            reader.f.seek(start + n * dtype.itemsize)
    finally:
        reader.close()
    return a


def _has_fileno(f) -> bool:
    try:
        f.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
