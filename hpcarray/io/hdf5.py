"""HDF5 datasets (`to_hdf5`, `from_hdf5`), through h5py, imported when first used.

Each rank writes the hyperslabs of its own tiles. With an h5py built for MPI (parallel
HDF5) the ranks write at the same time into a file they open together; otherwise they
take turns, one rank after another with a barrier between (HDF5 without MPI allows one
writer at a time). Reading needs no turns: every rank opens the file and reads its own
tiles. A new file is written under a temporary name next to `path` and renamed at the end.
"""

from __future__ import annotations

import os

import numpy as np

from hpcarray.io import _files, _tiles
from hpcarray.runtime import get_runtime


def _slices(rect) -> tuple:
    return tuple(slice(lo, hi) for lo, hi in rect) or ()


def _parallel(rt) -> bool:
    """h5py built with MPI, in a job of several MPI ranks."""
    import h5py

    return rt.nranks > 1 and rt.comm.is_mpi and h5py.get_config().mpi


def to_hdf5(a, path, name: str, **kwargs) -> None:
    """Write the hpcarray array `a` as the dataset `name` of a new HDF5 file `path` (an
    existing file is replaced), each rank writing its own tiles' hyperslabs. `kwargs` go
    to h5py's `create_dataset` (chunks, compression, ...)."""
    import h5py

    from hpcarray._api.convert import asarray

    rt = get_runtime()
    path = os.fspath(path)
    store, keep = _tiles.source_store(asarray(a))
    rects = _tiles.writer_rects(store)

    def write(f) -> None:
        ds = f[name]
        for rect in rects:
            ds[_slices(rect)] = store.local(rect)

    if _parallel(rt):  # pragma: no cover - needs an h5py built with MPI (not on PyPI)
        def create(tmp: str) -> None:
            pass

        def fill(tmp: str) -> None:
            with h5py.File(tmp, "w", driver="mpio", comm=rt.comm.coll) as f:
                f.create_dataset(name, shape=store.shape, dtype=store.dtype, **kwargs)
                write(f)
    else:
        def create(tmp: str) -> None:
            with h5py.File(tmp, "w") as f:
                f.create_dataset(name, shape=store.shape, dtype=store.dtype, **kwargs)

        def fill(tmp: str) -> None:
            error = None
            for turn in range(rt.nranks):
                if turn == rt.rank:
                    try:
                        with h5py.File(tmp, "r+") as f:
                            write(f)
                    except Exception as exc:  # noqa: BLE001 - raised after every turn
                        error = exc
                rt.comm.barrier()
            if error is not None:
                raise error

    _files.atomically(path, create, fill)
    del keep


def from_hdf5(path, name: str):
    """The dataset `name` of the HDF5 file `path` as an hpcarray array, each rank reading
    its own tiles' hyperslabs. Datasets of dtypes hpcarray does not hold come back as
    NumPy arrays."""
    import h5py

    from hpcarray._dtypes import UnsupportedDtype, check_dtype

    path = os.fspath(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise type(exc)(f"{path}: {exc}") from exc
    with f:
        try:
            ds = f[name]
        except KeyError as exc:
            raise KeyError(f"{path}: no dataset {name!r} ({exc.args[0]})") from None
        try:
            dtype = check_dtype(np.dtype(ds.dtype))
        except UnsupportedDtype:
            from hpcarray._fallback import warn_fallback

            warn_fallback("from_hdf5")
            return ds[()]
        store = _tiles.new_store(ds.shape, dtype)
        for rect in _tiles.reader_rects(store):
            local = store.local(rect)
            if local.size:
                local[...] = ds[_slices(rect)]
        return _tiles.filled(store)
