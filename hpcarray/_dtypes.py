"""The dtypes hpcarray supports, and the checks that keep others out."""

from __future__ import annotations

import numpy as np

SUPPORTED = tuple(
    np.dtype(t)
    for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128,
    )
)
SUPPORTED_SET = frozenset(SUPPORTED)
_SUPPORTED_SET = SUPPORTED_SET
_NAMES = ", ".join(str(d) for d in SUPPORTED)


class UnsupportedDtype(TypeError):
    """A dtype hpcarray does not hold (strings, datetimes, objects, structured): where the
    user asked for one, NumPy's own array serves instead (creation.held_or_numpy)."""


def check_dtype(dtype: np.dtype) -> np.dtype:
    """Return the dtype in native byte order, or raise UnsupportedDtype naming what is
    supported."""
    if dtype in _SUPPORTED_SET:
        return dtype
    native = dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype
    if native in _SUPPORTED_SET:
        return native
    raise UnsupportedDtype(
        f"hpcarray does not support dtype {dtype!r}; supported dtypes are: {_NAMES}"
    )


def as_dtype(dtype) -> np.dtype | None:
    """`dtype=` argument as a checked NumPy dtype (None stays None)."""
    if dtype is None:
        return None
    return check_dtype(np.dtype(dtype))
