"""Zarr arrays (`to_zarr`, `from_zarr`), through zarr-python, imported when first used.

Chunks follow the tiles: every chunk lies inside one tile, so each rank writes whole
chunks of its own tiles and no chunk is written by two ranks. Zarr's chunks are a regular
grid and tiles may be uneven, so the chunk extent along each axis is the largest common
divisor of the tile edges there (and at most ~64 MiB a chunk). The array is written to a
temporary directory next to `path` and renamed at the end; ordinary zarr reads it.
"""

from __future__ import annotations

import math
import os

import numpy as np

from hpcarray.io import _files, _tiles
from hpcarray.runtime import get_runtime

_CHUNK_BYTES = 64 << 20


def _slices(rect) -> tuple:
    return tuple(slice(lo, hi) for lo, hi in rect) or ...


def _smallest_factor(n: int) -> int:
    f = 2
    while f * f <= n:
        if n % f == 0:
            return f
        f += 1
    return n


def chunk_shape(store) -> tuple[int, ...]:
    """Collective: a regular chunk grid in which every chunk lies inside one tile."""
    rt = get_runtime()
    rects = [r for mine in rt.comm.allgather_obj(rt.own_rects(store)) for r in mine]
    shape = store.shape
    chunks, divides = [], []
    for d, n in enumerate(shape):
        inner = {e for r in rects for e in r[d]} - {0, n}
        g = math.gcd(*inner) if inner else 0
        chunks.append(max(g or n, 1))
        divides.append(bool(g))
    itemsize = store.dtype.itemsize
    for d in range(len(shape)):  # smaller chunks, cut so they still divide the edges
        while math.prod(chunks) * itemsize > _CHUNK_BYTES and chunks[d] > 1:
            chunks[d] = (chunks[d] // _smallest_factor(chunks[d]) if divides[d]
                         else -(-chunks[d] // 2))
    return tuple(chunks)


def _replace(tmp: str, path: str) -> None:
    """Rename the new array over `path`, an older one moved aside first."""
    if os.path.lexists(path):
        old = _files.temporary_name(path)
        os.rename(path, old)
        os.rename(tmp, path)
        _files.remove(old)
    else:
        os.rename(tmp, path)


def to_zarr(a, path, *, overwrite: bool = False, **kwargs) -> None:
    """Write the hpcarray array `a` to a new zarr array at the directory `path`, each rank
    writing the chunks of its own tiles. `kwargs` go to `zarr.create_array` (compressors,
    zarr_format, attributes, ...); `overwrite=True` replaces an existing `path`."""
    import zarr

    from hpcarray._api.convert import asarray

    path = os.fspath(path)
    a = asarray(a)
    store, keep = _tiles.source_store(a)
    chunks = chunk_shape(store)
    rects = _tiles.writer_rects(store)

    def create(tmp: str) -> None:
        if os.path.lexists(path) and not overwrite:
            raise FileExistsError(f"{path} exists (to_zarr(..., overwrite=True) replaces it)")
        zarr.create_array(store=tmp, shape=store.shape, chunks=chunks, dtype=store.dtype,
                          **kwargs)

    def fill(tmp: str) -> None:
        z = zarr.open_array(tmp, mode="r+")
        for rect in rects:
            z[_slices(rect)] = store.local(rect)

    _files.atomically(path, create, fill, replace=_replace)
    del keep


def from_zarr(path):
    """The zarr array at `path` as an hpcarray array, each rank reading its own tiles.
    Arrays of dtypes hpcarray does not hold come back as NumPy arrays."""
    import zarr

    from hpcarray._dtypes import UnsupportedDtype, check_dtype

    z = zarr.open_array(os.fspath(path), mode="r")
    try:
        dtype = check_dtype(np.dtype(z.dtype))
    except UnsupportedDtype:
        from hpcarray._fallback import warn_fallback

        warn_fallback("from_zarr")
        return np.asarray(z[...])
    store = _tiles.new_store(z.shape, dtype)
    for rect in _tiles.reader_rects(store):
        store.local(rect)[...] = z[_slices(rect)]
    return _tiles.filled(store)
