"""Sharded input and output: every rank writes and reads only its own tiles, at their
places in the file; no array is gathered to one rank.

- `.npy` (`save`, `load`, `mmap_mode=`), `.npz` (`savez`, `savez_compressed`, `load`) and raw
  binary (`ndarray.tofile`, `fromfile`): npy.py, npz.py; `hpcarray.save` etc. are these.
- Zarr (`to_zarr`, `from_zarr`) and HDF5 (`to_hdf5`, `from_hdf5`): zarr.py, hdf5.py, with
  zarr and h5py imported when first used (`pip install 'hpcarray[io]'`).

Writes go to a temporary name in the same directory, renamed when every rank is done: a
failure on any rank is raised on every rank and leaves no half-written file.
"""

from __future__ import annotations

from hpcarray.io.hdf5 import from_hdf5, to_hdf5
from hpcarray.io.npy import fromfile, load, save, tofile
from hpcarray.io.npz import NpzFile, savez, savez_compressed
from hpcarray.io.zarr import from_zarr, to_zarr

__all__ = ["save", "load", "savez", "savez_compressed", "tofile", "fromfile", "NpzFile",
           "to_zarr", "from_zarr", "to_hdf5", "from_hdf5"]
