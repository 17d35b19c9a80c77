"""hpcarray: a distributed, task-based drop-in replacement for NumPy.

`import hpcarray as np` and run the same program on one core, every core of a node, or
many nodes. Functions without a native implementation run through NumPy, with one
FallbackWarning per function.
"""

from __future__ import annotations

import numpy as _np

__version__ = "0.1.0"

from hpcarray._api.creation import (  # noqa: E402
    arange,
    array,
    asanyarray,
    asarray,
    ascontiguousarray,
    copy,
    diag,
    diagflat,
    empty,
    empty_like,
    eye,
    fromfunction,
    full,
    full_like,
    geomspace,
    identity,
    indices,
    linspace,
    logspace,
    meshgrid,
    ones,
    ones_like,
    tri,
    tril,
    triu,
    zeros,
    zeros_like,
)
from hpcarray._api.indexing import (  # noqa: E402
    argwhere,
    choose,
    compress,
    diag_indices,
    diag_indices_from,
    extract,
    fill_diagonal,
    flatnonzero,
    ix_,
    nonzero,
    place,
    put,
    put_along_axis,
    putmask,
    ravel_multi_index,
    select,
    take,
    take_along_axis,
    tril_indices,
    tril_indices_from,
    triu_indices,
    triu_indices_from,
    unravel_index,
)
from hpcarray._api.joining import (  # noqa: E402
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block,
    column_stack,
    concat,
    concatenate,
    delete,
    dsplit,
    dstack,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    insert,
    pad,
    repeat,
    resize,
    roll,
    rot90,
    split,
    stack,
    tile,
    trim_zeros,
    unstack,
    vsplit,
    vstack,
)
from hpcarray._api.manipulation import (  # noqa: E402
    broadcast_arrays,
    broadcast_to,
    clip,
    copyto,
    diagonal,
    expand_dims,
    imag,
    moveaxis,
    ndim,
    permute_dims,
    ravel,
    real,
    reshape,
    shape,
    size,
    squeeze,
    swapaxes,
    transpose,
    where,
)
from hpcarray._api.manipulation import round_ as round  # noqa: E402
from hpcarray._api.reductions import COUNTS_REFERENCES as _COUNTS_REFERENCES  # noqa: E402
from hpcarray._api.reductions import (  # noqa: E402
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    max,
    mean,
    min,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmin,
    nanprod,
    nanstd,
    nansum,
    nanvar,
    prod,
    std,
    sum,
    var,
)
from hpcarray._api.sorting import argsort, sort  # noqa: E402
from hpcarray._api.statistics import median  # noqa: E402
from hpcarray._api.ufuncs import all_ufuncs as _all_ufuncs  # noqa: E402
from hpcarray._api.ufuncs import ufunc  # noqa: E402
from hpcarray._array import ndarray  # noqa: E402
from hpcarray._fallback import FallbackWarning  # noqa: E402
from hpcarray._fallback import numpy_for_data_not_held as _numpy_for_data_not_held  # noqa: E402
from hpcarray._namespace import install_submodule_finder as _install_submodule_finder  # noqa: E402
from hpcarray._namespace import module_getattr as _module_getattr  # noqa: E402
from hpcarray.io import fromfile, load, save, savez, savez_compressed  # noqa: E402

globals().update(_all_ufuncs())
around = round


# After the ufuncs: numpy.matmul is a (g)ufunc, hpcarray's is the tiled product.
from hpcarray import linalg, random  # noqa: E402
from hpcarray._api.einsum import einsum  # noqa: E402
from hpcarray._api.linalg import (  # noqa: E402
    dot,
    inner,
    matmul,
    outer,
    tensordot,
    trace,
    vdot,
)

# NumPy's own (no fallback warning): operations honour the caller's errstate.
errstate, geterr, geterrcall = _np.errstate, _np.geterr, _np.geterrcall
seterr, seterrcall = _np.seterr, _np.seterrcall

__getattr__ = _module_getattr(_np, "", {})
_install_submodule_finder()  # hpcarray.fft, hpcarray.ma, ...: NumPy's, through the fallback
# Given strings, datetimes or objects, functions run as NumPy's (the reductions that count
# their argument's references do it themselves: a wrapper would hold one more).
_numpy_for_data_not_held(globals(), skip=_COUNTS_REFERENCES)


def sync() -> None:
    """Wait until every operation issued so far has run, on every rank; an error of a
    deferred task is raised here. For timing: results never need it (values that reach
    Python wait for exactly what they depend on)."""
    from hpcarray.runtime import get_runtime

    get_runtime().sync()


def _start_runtime_under_mpi() -> None:
    """Under an MPI launcher, start the runtime at import: ranks other than 0 silence
    stdout before the program prints anything."""
    from hpcarray.runtime.comm import launched_by_mpi

    if launched_by_mpi():
        from hpcarray.runtime import get_runtime

        get_runtime()


from hpcarray.runtime.config import check_at_import as _check_settings  # noqa: E402

_check_settings()
_start_runtime_under_mpi()


def __dir__():
    return sorted(set(globals()) | set(dir(_np)))
