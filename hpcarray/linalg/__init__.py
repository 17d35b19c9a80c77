"""numpy.linalg on tiles; what is not native falls back to NumPy.

Native and tiled: matmul, tensordot, vecdot-free products (see hpcarray._api.linalg), norm,
vector_norm, matrix_norm (2-norms and nuclear norms of matrices gather for the SVD),
multi_dot, matrix_power, trace, outer.

Gathered on purpose (no FallbackWarning): solve, inv, det, slogdet, eig, eigh, eigvals,
eigvalsh, cholesky, qr, svd, svdvals, lstsq, pinv, matrix_rank, cond, tensorinv,
tensorsolve. These are small dense problems: the operands are gathered, NumPy's LAPACK runs
(redundantly on every rank), and the results come back as hpcarray arrays.
"""

import numpy as _np

from hpcarray._api.linalg import gathered as _gathered
from hpcarray._api.linalg import (  # noqa: F401
    matmul,
    matrix_norm,
    matrix_power,
    multi_dot,
    norm,
    outer,
    tensordot,
    trace,
    vector_norm,
)
from hpcarray._namespace import module_getattr as _module_getattr

LinAlgError = _np.linalg.LinAlgError
globals().update(_gathered)

__getattr__ = _module_getattr(_np.linalg, "linalg.", {})
