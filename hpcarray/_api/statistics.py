"""Order statistics (NumPy's "Statistics" section): median.

A median is NumPy's own recipe on distributed parts: sort along the axis (tiles holding
whole lanes; a sample sort across ranks for one axis), then the mean of the one or two
middle elements, and NaN wherever the lane's last sorted element is NaN. The values are
the elements NumPy's partition picks, averaged as NumPy averages them: bit for bit.
"""

from __future__ import annotations

import numpy as np

from hpcarray._api.convert import asarray, to_numpy
from hpcarray._api.indexing import basic_view
from hpcarray._api.manipulation import ravel, squeeze
from hpcarray._api.reductions import mean, normalize_axes
from hpcarray._api.sorting import sort
from hpcarray._fallback import call_numpy


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    x = asarray(a)
    if out is not None or x.size == 0 or x.dtype.kind not in "iuf" or isinstance(axis, tuple):
        # An empty median is NumPy's NaN with its warnings; axes NumPy moves together
        # first (and checks with its own messages): rare, run by NumPy.
        return call_numpy(np.median, "median", (a,), {
            "axis": axis, "out": out, "overwrite_input": overwrite_input,
            "keepdims": keepdims})
    axes = normalize_axes(axis, x.ndim)  # NumPy's AxisError
    whole = axis is None or x.ndim <= 1
    if whole and x.ndim != 1:
        flat = ravel(x)
        res = median(flat)
        return asarray(res).reshape((1,) * x.ndim) if keepdims else res
    ax = axes[0] if axes else 0
    s = sort(x, axis=ax)
    n = s.shape[ax]

    def along(lo: int, hi: int):
        return basic_view(s, (slice(None),) * ax + (slice(lo, hi),))

    m = mean(along((n - 1) // 2, n // 2 + 1), axis=ax, keepdims=True)
    if s.dtype.kind == "f":
        from hpcarray import isnan, where

        last = along(n - 1, n)
        m = where(isnan(last), last, m)
    if not keepdims:
        m = squeeze(m, axis=ax)
    if m.ndim == 0:
        return to_numpy(m)[()]
    return m
