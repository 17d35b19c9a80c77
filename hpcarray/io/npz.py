""".npz archives (`savez`, `savez_compressed`, and the NpzFile `load` returns).

Writing: each hpcarray member is first written as a temporary .npy next to the archive,
in parallel, every rank its own tiles (npy.py); rank 0 then builds the zip by streaming
those files into its members (stored, or deflated for `savez_compressed`) and removes
them. No array is gathered into memory; the data passes through rank 0 once, as file
bytes. Members that are not hpcarray arrays are written by NumPy, as `numpy.savez` does.

Reading: a stored (uncompressed) member is a .npy at a known offset of the archive, so
every rank reads its own tiles of it in place. A deflated member cannot be read from the
middle: every rank inflates the whole member with NumPy and keeps its tiles (slower, and
the member passes through each rank's memory once).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zipfile

import numpy as np
from numpy.lib import format as npformat
from numpy.lib.npyio import NpzFile as _NumpyNpzFile

from hpcarray.io import _files, npy
from hpcarray.runtime import get_runtime

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_COPY_CHUNK = 16 << 20


class NpzFile(_NumpyNpzFile):
    """numpy.lib.npyio.NpzFile whose members are hpcarray arrays, each rank reading the
    tiles it owns of a stored member in place."""

    def __getitem__(self, key):
        name = self._files.get(key)
        if name is None:
            return super().__getitem__(key)  # NumPy's KeyError
        info = self.zip.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
            return self._through_numpy(key)
        fp = self.zip.fp  # (zipfile seeks its shared file before each of its reads)
        reader = _files.Reader(fp)
        reader.name = f"{_files.display_name(fp)}[{name}]"
        reader.f.seek(info.header_offset)
        fields = _LOCAL_HEADER.unpack(reader.f.read(_LOCAL_HEADER.size))
        member = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
        reader.f.seek(member)
        if reader.f.read(len(npy._MAGIC)) != npy._MAGIC:
            return super().__getitem__(key)  # not a .npy: NumPy gives its bytes
        reader.f.seek(member)
        header = npy.read_npy_header(reader.f, self.max_header_size)
        if header is None or not npy._held(header[2]):
            return super().__getitem__(key)
        shape, fortran, dtype = header
        start = reader.f.tell()
        count = int(np.prod(shape, dtype=np.int64))
        in_member = max(info.file_size - (start - member), 0) // dtype.itemsize
        if in_member < count:
            raise npy._truncated(reader.name, shape, count, in_member)
        return npy.read_array(reader, start, shape, dtype, fortran)

    def _through_numpy(self, key):
        from hpcarray._api.convert import hpc_results
        from hpcarray._fallback import warn_fallback

        warn_fallback("load (a compressed .npz member)")
        arr = super().__getitem__(key)
        if isinstance(arr, np.ndarray) and arr.flags.f_contiguous and not arr.flags.c_contiguous:
            return hpc_results(arr.T).T  # Fortran order, as NumPy loads it
        return hpc_results(arr)


def _members(args, kwds) -> dict:
    """numpy.savez's member names (its error for a clash)."""
    named = dict(kwds)
    for i, val in enumerate(args):
        key = f"arr_{i}"
        if key in named:
            raise ValueError(f"Cannot use un-named variables and keyword {key}")
        named[key] = val
    return named


def _folder(file) -> str:
    """Where the members' temporary .npy files go: next to the archive."""
    name = os.fspath(file) if _files.is_path(file) else getattr(file, "name", None)
    if isinstance(name, str):
        return os.path.dirname(os.path.abspath(name))
    return tempfile.gettempdir()


def _savez(file, args, kwds, compress: bool, allow_pickle: bool) -> None:
    numpy_func = np.savez_compressed if compress else np.savez
    name = "savez_compressed" if compress else "savez"
    if _files.is_path(file):
        file = os.fspath(file)
        if not file.endswith(".npz"):
            file += ".npz"
    members = _members(args, kwds)
    if not any(npy._is_array(v) for v in members.values()):
        _files.write_whole(file, lambda f: numpy_func(f, allow_pickle=allow_pickle, **members))
        return
    agreed = _files.shared(file, _files.temporary_name(os.path.join(_folder(file), "m")))
    if agreed is None:  # ranks that do not share the file: NumPy's, on gathered arrays
        npy._numpy(name, numpy_func, file, allow_pickle=allow_pickle, **members)
        return
    rt = get_runtime()
    prefix = agreed[0][0]
    parts = {key: f"{prefix}.{i}.npy" for i, (key, v) in enumerate(members.items())
             if npy._is_array(v)}
    try:
        for key, path in parts.items():
            npy.save(path, members[key])

        def assemble(out) -> None:
            method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zipfile.ZipFile(out, mode="w", compression=method, allowZip64=True) as zf:
                for key, val in members.items():
                    with zf.open(key + ".npy", "w", force_zip64=True) as fid:
                        if key in parts:
                            with open(parts[key], "rb") as src:
                                shutil.copyfileobj(src, fid, _COPY_CHUNK)
                        else:
                            npformat.write_array(fid, np.asanyarray(val),
                                                 allow_pickle=allow_pickle)

        if _files.is_path(file):
            _files.atomically(file, assemble, lambda tmp: None)
        else:
            error, end = None, None
            if rt.rank == 0:
                try:
                    assemble(file)
                    file.flush()
                    end = file.tell()
                except Exception as exc:  # noqa: BLE001 - agreed on below
                    error = exc
            _files.agree(error)
            file.seek(rt.comm.allgather_obj(end)[0])
    finally:  # (every rank gets here: failures are agreed on)
        if rt.rank == 0:
            for path in parts.values():
                _files.remove(path)
        rt.comm.barrier()  # gone before any rank goes on


def savez(file, *args, allow_pickle: bool = True, **kwds) -> None:
    """numpy.savez: hpcarray members are written by the ranks that hold their tiles (to
    temporary .npy files that rank 0 then streams into the stored zip members)."""
    _savez(file, args, kwds, False, allow_pickle)


def savez_compressed(file, *args, allow_pickle: bool = True, **kwds) -> None:
    """numpy.savez_compressed: as `savez`, rank 0 deflating the members as it streams them
    into the archive."""
    _savez(file, args, kwds, True, allow_pickle)
