"""hpcarray: a distributed, task-based drop-in replacement for NumPy.

`import hpcarray as np` and run the same program on one core, every core of a node, or
many nodes. Functions without a native implementation run through NumPy, with one
FallbackWarning per function.
"""

from __future__ import annotations

import numpy as _np

__version__ = "0.1.0"

from hpcarray._api.creation import (  # noqa: E402
    arange, array, asanyarray, asarray, ascontiguousarray, copy, diag, diagflat, empty,
    empty_like, eye, fromfunction, full, full_like, geomspace, identity, indices, linspace,
    logspace, meshgrid, ones, ones_like, tri, tril, triu, zeros, zeros_like,
)
from hpcarray._api.indexing import nonzero, take  # noqa: E402
from hpcarray._api.manipulation import (  # noqa: E402
    broadcast_arrays, broadcast_to, clip, copyto, diagonal, expand_dims, imag, moveaxis,
    ndim, permute_dims, ravel, real, reshape, shape, size, squeeze, swapaxes, transpose,
    where,
)
from hpcarray._api.manipulation import round_ as round  # noqa: E402
from hpcarray._api.reductions import (  # noqa: E402
    all, amax, amin, any, argmax, argmin, count_nonzero, cumprod, cumsum, max, mean, min,
    nanmax, nanmean, nanmin, nanprod, nansum, prod, std, sum, var,
)
from hpcarray._api.ufuncs import all_ufuncs as _all_ufuncs  # noqa: E402
from hpcarray._api.ufuncs import ufunc  # noqa: E402
from hpcarray._array import ndarray  # noqa: E402
from hpcarray._fallback import FallbackWarning  # noqa: E402
from hpcarray._namespace import module_getattr as _module_getattr  # noqa: E402

globals().update(_all_ufuncs())
around = round

try:
    from hpcarray._api.extra import *  # noqa: E402,F401,F403  (manipulation, joins: helpers)
except ImportError:  # pragma: no cover
    pass

from hpcarray import linalg, random  # noqa: E402

__getattr__ = _module_getattr(_np, "", {})


def __dir__():
    return sorted(set(globals()) | set(dir(_np)))
