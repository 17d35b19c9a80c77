"""Helpers of the sharded I/O tests (see conftest.py)."""

from __future__ import annotations

import numpy

from hpcarray.runtime import get_runtime

# Dtypes hpcarray holds, in the tests' draws.
DTYPES = ["bool", "int8", "uint16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def rank0(make) -> None:
    """Run `make()` (a reference file written by NumPy, zarr or h5py) on rank 0 only; the
    other ranks wait until it is there."""
    rt = get_runtime()
    if rt.rank == 0:
        make()
    rt.comm.barrier()


def values(shape, dtype, seed: int = 0) -> numpy.ndarray:
    """Deterministic test data of any held dtype (the same on every rank)."""
    rng = numpy.random.default_rng(seed)
    dtype = numpy.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = numpy.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    x = rng.standard_normal(shape) * 1e3
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def computed(hp, x: numpy.ndarray):
    """An hpcarray array holding x, computed by tasks (each rank holds its own tiles)."""
    a = hp.asarray(x)
    return a.copy()


def same(got, want: numpy.ndarray) -> None:
    """Bit for bit: values, dtype, shape, and Fortran-ness."""
    got_np = numpy.asarray(got)
    assert got_np.dtype == want.dtype and got_np.shape == want.shape
    assert got_np.tobytes() == want.tobytes()
    assert got.flags.f_contiguous == want.flags.f_contiguous
