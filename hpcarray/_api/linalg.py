"""Linear algebra on tiles: matmul/dot/tensordot as point tasks calling BLAS.

`matmul` is the core. Its output is launched over the output's tiles: the task of tile
(batch, i, j) computes sum over k-blocks of A[batch, i, k] @ B[batch, k, j] with NumPy's
matmul (BLAS for float/complex) on strided views of the local buffers. The k-blocks are
the tile boundaries of A along k and of B along k merged, so each block lies inside one
tile of each input (on several ranks, each block is one piece of data to move). When the
output has fewer tiles than there are processors (dot of vectors, skinny products), every
(tile, k-block) product becomes its own task and a combining task sums the partials in
k order.

Shapes, dtypes and errors are NumPy's: the result dtype comes from a probe on tiny
stand-ins, and when our own shape check finds a problem NumPy is called on zero-stride
stand-ins of the real shapes, so it raises its own exception (nothing is computed).

`dot`, `inner`, `tensordot` reduce to matmul (tensordot through transpose+reshape);
(`einsum` is in einsum.py);
`trace` is diagonal + sum; `outer` is a broadcast multiply. `vector_norm`/`norm` are built
from tiled reductions, except matrix 2-norms and nuclear norms which gather (SVD).

BLAS threads: each worker thread calls BLAS, so OpenBLAS threads x workers can exceed the
cores. Before the first tiled product we cap BLAS threads at max(1, cores // (workers x
ranks on the node)) through threadpoolctl when it is installed (see `blas_threads`): at 2
ranks on 2 cores, two BLAS threads per rank spun against the other rank's work.
"""

from __future__ import annotations

import operator
import os

import numpy as np

from hpcarray._api.convert import (
    asarray,
    is_array,
    new_array,
    new_result,
    numpy_view,
    require_writeable,
    stand_in,
    to_numpy,
    wrap,
)
from hpcarray._replicated import replicated_across_ranks
from hpcarray.runtime import get_runtime, tasks
from hpcarray.runtime.partition import ALL, rect_size, rect_slices

# -- helpers -------------------------------------------------------------------------------


def _arr(x):
    return x if is_array(x) else asarray(x)


def _stand(x):
    return stand_in(x.dtype, x.shape)


def _tiny(x, ndim=None):
    return np.zeros((1,) * (x.ndim if ndim is None else ndim), x.dtype)


def _scalar_or(res, out):
    if out is not None:
        return out
    if res.ndim == 0:
        return to_numpy(res)[()]
    return res


_blas_state = {"done": False, "limits": None}


def blas_threads(workers: int | None = None) -> int | None:
    """Cap BLAS threads so that workers x BLAS threads <= cores (once per process).

    Returns the BLAS thread count now in force, or None if threadpoolctl is missing.
    The environment variable HPCARRAY_BLAS_THREADS overrides the computed cap.
    """
    if _blas_state["done"]:
        return _blas_state["limits"]
    _blas_state["done"] = True
    if workers is None:
        workers = get_runtime().settings.workers
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count() or 1
    env = os.environ.get("HPCARRAY_BLAS_THREADS")
    # The node's cores are shared by its ranks' workers (each rank sees all of them).
    users = max(1, workers) * get_runtime().comm.local_size
    n = int(env) if env else max(1, cores // users)
    threadpool_limits(limits=n, user_api="blas")
    _blas_state["limits"] = n
    return n


def _edges(rects, axis):
    out = set()
    for rect, _owner in rects:
        lo, hi = rect[axis]
        out.add(lo)
        out.add(hi)
    return out


# -- matmul core -----------------------------------------------------------------------


def _matmul_shapes(ashape, bshape):
    """(batch, n, k, m, out_shape) or None when NumPy would raise."""
    if not ashape or not bshape:
        return None
    a1, b1 = len(ashape) == 1, len(bshape) == 1
    a2 = (1,) + ashape if a1 else ashape
    b2 = bshape + (1,) if b1 else bshape
    if a2[-1] != b2[-2]:
        return None
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return None
    out_shape = batch + (() if a1 else (a2[-2],)) + (() if b1 else (b2[-1],))
    return batch, a2[-2], a2[-1], b2[-1], out_shape


def _as_matrix_views(a, b, batch, n, k, m):
    """NumPy and view forms of a (batch.., n, k) and b (batch.., k, m), broadcast."""
    if a.ndim == 1:
        a = wrap(a._v.insert_unit_axes((0,)), numpy_view(a).reshape(1, k))
    if b.ndim == 1:
        b = wrap(b._v.insert_unit_axes((1,)), numpy_view(b).reshape(k, 1))
    ashape, bshape = batch + (n, k), batch + (k, m)
    av = a._v if a.shape == ashape else a._v.broadcast_to(ashape)
    bv = b._v if b.shape == bshape else b._v.broadcast_to(bshape)
    anp = a._np if a.shape == ashape else np.broadcast_to(a._np, ashape)
    bnp = b._np if b.shape == bshape else np.broadcast_to(b._np, bshape)
    return av, anp, bv, bnp


def _matmul_into(res, a, b, batch, n, k, m, a1, b1, mm_kwargs):
    """Launch the tiled product of a and b into res (fresh or non-aliasing, right dtype)."""
    rt = get_runtime()
    if res.size == 0:
        return
    av, anp, bv, bnp = _as_matrix_views(a, b, batch, n, k, m)
    full = batch + (n, m)
    axes = tuple(ax for ax, flag in ((len(batch), a1), (len(batch) + 1, b1)) if flag)
    if axes:
        o = wrap(res._v.insert_unit_axes(axes), numpy_view(res).reshape(full))
    else:
        o = res
    onp = o._np
    kwargs = dict(mm_kwargs)
    kwargs["casting"] = "unsafe"
    if rt.idle and rt.is_small(res.size) and rt.is_small(a.size) and rt.is_small(b.size):
        np.matmul(anp, bnp, out=onp, **kwargs)
        return
    if not _blas_state["done"] and (rt.settings.workers > 1 or rt.comm.local_size > 1):
        blas_threads(rt.settings.workers)
    if tasks.needs_replication(rt, [av, bv, o._v]):
        tasks.replicated(rt, "matmul", lambda: np.matmul(anp, bnp, out=onp, **kwargs), [o._v],
                       [av, bv])
        return
    if _rows_shared(rt, av, bv, o, anp, bnp, onp, kwargs, len(batch)):
        return
    kedges = sorted(_edges(av.launch_tiles(), -1) | _edges(bv.launch_tiles(), -2) | {0, k})
    kblocks = [(lo, hi) for lo, hi in zip(kedges, kedges[1:])] or [(0, 0)]
    out_tiles = o._v.launch_tiles()
    if len(out_tiles) == 1 and len(kblocks) == 1 and rt.dist is None and \
            rt.settings.workers > 1:  # (with k blocks, the product is split along k)
        out_tiles = _split_rows(out_tiles[0], len(batch), rt.settings.workers, n * k * m)
    op = rt.operation("matmul", [av.store, bv.store], [o._v.store])
    nb = len(batch)
    split_k = len(out_tiles) < rt.processors and len(kblocks) > 1
    for rect, owner in out_tiles:
        brect, irect, jrect = rect[:nb], rect[nb], rect[nb + 1]
        bsl = rect_slices(brect)
        isl, jsl = slice(*irect), slice(*jrect)
        osl = rect_slices(rect)
        a_req = (av.store, av.image(brect + (irect, (0, k))), False)
        b_req = (bv.store, bv.image(brect + ((0, k), jrect)), False)
        o_req = (o._v.store, o._v.image(rect), True)
        if not split_k:
            # The whole k range is in the local buffers (pieces from other ranks arrive
            # there): one BLAS call per output tile.
            def kernel(osl=osl, bsl=bsl, isl=isl, jsl=jsl):
                np.matmul(anp[bsl + (isl, slice(None))], bnp[bsl + (slice(None), jsl)],
                          out=onp[osl], **kwargs)
            # Bytes written (the output tile), which is what the window bounds.
            tasks.launch(rt, op, kernel, rect, owner, [o_req], [a_req, b_req],
                       nbytes=rect_size(rect) * onp.itemsize)
            continue
        slots: list = [None] * len(kblocks)
        parts = []
        # A result every rank holds, from operands spread over the ranks along k: each
        # k block's product is computed where its data is and sent to the other ranks.
        shared = rt.dist is not None and owner == ALL
        for t, (lo, hi) in enumerate(kblocks):
            def part(t=t, lo=lo, hi=hi, bsl=bsl, isl=isl, jsl=jsl, slots=slots):
                slots[t] = np.matmul(anp[bsl + (isl, slice(lo, hi))],
                                     bnp[bsl + (slice(lo, hi), jsl)], **kwargs)
            reqs = [(av.store, av.image(brect + (irect, (lo, hi))), False),
                    (bv.store, bv.image(brect + ((lo, hi), jrect)), False)]
            where = _kblock_owner(av, bv, lo, hi) if shared else owner
            task = tasks.launch(rt, op, part, rect, where, [], reqs)
            if task is not None:
                parts.append(task)
            if shared and where != ALL:
                for dst in range(rt.nranks):
                    if dst == where:
                        continue
                    got = rt.send_object(op, lambda t=t, slots=slots: slots[t], where, dst,
                                         after=[task] if task is not None else ())
                    if got is not None:
                        parts.append(got[0])
                        slots[t] = got[1]

        def combine(osl=osl, slots=slots, keep=shared):
            vals = [s[0] if isinstance(s, list) else s for s in slots]
            out_tile = onp[osl]
            out_tile[...] = vals[0]
            for v in vals[1:]:
                out_tile += v
            if not keep:  # (shared: sends to other ranks may still read them)
                slots.clear()

        tasks.launch(rt, op, combine, rect, owner, [o_req], [], after=parts)
    tasks.note_writes(rt, [o._v])


def _kblock_owner(av, bv, lo: int, hi: int) -> int:
    """The rank holding the k block [lo, hi) of the operands (ALL if none does)."""
    for view, axis in ((av, -1), (bv, -2)):
        for rect, owner in view.launch_tiles():
            if owner != ALL and rect[axis][0] <= lo and hi <= rect[axis][1]:
                return owner
    return ALL


def _rows_shared(rt, av, bv, o, anp, bnp, onp, kwargs, nb: int) -> bool:
    """Several ranks, a result too small to split (a matrix-vector product's vector) and a
    matrix spread over the ranks by rows: each rank computes the rows of the result from
    the matrix rows it owns and sends them to the others, instead of every rank streaming
    the whole matrix. False where this does not apply."""
    out_tiles = o._v.launch_tiles()
    if rt.dist is None or nb or len(out_tiles) != 1 or out_tiles[0][1] != ALL:
        return False
    rows = sorted({(rect[0], owner) for rect, owner in av.launch_tiles()
                   if rect[1][0] == 0 and owner != ALL})
    if len(rows) < 2 or len({owner for _, owner in rows}) < 2:
        return False
    op = rt.operation("matmul", [av.store, bv.store], [o._v.store])
    k = av.shape[-1]
    jrect = out_tiles[0][0][1]
    for irect, owner in rows:
        rect = (irect, jrect)
        isl, osl = slice(*irect), rect_slices(rect)

        def kernel(isl=isl, osl=osl):
            np.matmul(anp[isl], bnp, out=onp[osl], **kwargs)

        o_img = o._v.image(rect)
        tasks.launch(rt, op, kernel, rect, owner, [(o._v.store, o_img, True)],
                   [(av.store, av.image((irect, (0, k))), False),
                    (bv.store, bv.image(((0, k), jrect)), False)],
                   nbytes=rect_size(rect) * onp.itemsize)
        for dst in range(rt.nranks):
            if dst != owner:
                rt.message(op, o._v.store, o_img, owner, dst)
    return True


# Products with fewer multiply-adds than this are not worth splitting across workers.
_SPLIT_WORK = 1 << 22


def _split_rows(tile, nb: int, workers: int, work: int):
    """One rank, an output of one tile (a matrix-vector product): its rows in one piece
    per worker, so that every worker's BLAS call streams its share of the matrix."""
    rect, owner = tile
    lo, hi = rect[nb]
    if work < _SPLIT_WORK or hi - lo < workers:
        return [tile]
    edges = [lo + (hi - lo) * w // workers for w in range(workers + 1)]
    return [(rect[:nb] + ((a, b),) + rect[nb + 1:], owner) for a, b in zip(edges, edges[1:])]


def _out_target(out, shape, dtype, ins):
    """Where to compute: `out` itself when it fits and aliases no input, else a fresh array."""
    if out is not None and out.dtype == dtype and out.shape == shape and all(
            out._v.store.root is not x._v.store.root for x in ins):
        return out
    return new_result(shape, dtype)


def _finish(res, out):
    """Copy res into out when they differ; the NumPy-style return value."""
    if out is not None:
        if res is not out:
            from hpcarray._api.manipulation import copyto

            copyto(out, res, casting="unsafe")
        return out
    if res.ndim == 0:
        return to_numpy(res)[()]
    return res


def matmul(x1, x2, /, out=None, *, casting="same_kind", order="K", dtype=None, subok=True,
           **kwargs):
    if isinstance(out, tuple):
        out = out[0] if len(out) == 1 else out
    a, b = _arr(x1), _arr(x2)
    shapes = _matmul_shapes(a.shape, b.shape)
    mm_kwargs = {} if dtype is None else {"dtype": dtype}
    if kwargs:
        np.matmul(_tiny(a), _tiny(b), **kwargs)  # NumPy's error for unknown keywords
    if shapes is None:
        np.matmul(_stand(a), _stand(b))  # raises NumPy's error
        raise ValueError("matmul: shapes do not match")  # pragma: no cover
    batch, n, k, m, out_shape = shapes
    probe_out = None
    if out is not None:
        if not is_array(out):
            out = asarray(out) if isinstance(out, np.ndarray) else out
            if not is_array(out):
                raise TypeError("return arrays must be of ArrayType")
        if out.shape != out_shape:
            np.matmul(_stand(a), _stand(b), out=np.empty(out.shape, out.dtype))
            raise ValueError("matmul: output shape does not match")  # pragma: no cover
        require_writeable(out)
        probe_out = np.empty((1,) * len(out_shape), out.dtype)
    ta, tb = _tiny(a), _tiny(b)
    probe = np.matmul(ta, tb, out=probe_out, casting=casting, **mm_kwargs)
    rdt = probe.dtype if out is None else np.matmul(ta, tb, casting=casting,
                                                     **mm_kwargs).dtype
    res = _out_target(out, out_shape, rdt, (a, b))
    _matmul_into(res, a, b, batch, n, k, m, a.ndim == 1, b.ndim == 1, mm_kwargs)
    return _finish(res, out)


# -- dot, vdot, inner, outer, tensordot ------------------------------------------------


def _mul(a, b, out=None):
    from hpcarray._api.ufuncs import apply

    res = apply(np.multiply, a, b, out=out)
    if out is None and is_array(res) and res.ndim == 0:
        return to_numpy(res)[()]
    return res


def dot(a, b, out=None):
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return _mul(a, b, out)
    if a.shape[-1] != b.shape[-2 if b.ndim >= 2 else -1]:
        np.dot(_stand(a), _stand(b))  # raises NumPy's "shapes ... not aligned"
        raise ValueError("shapes not aligned")  # pragma: no cover
    rdt = np.dot(_tiny(a), _tiny(b)).dtype
    if b.ndim >= 2 and a.ndim >= 2 and b.ndim > 2:
        shape = a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    else:
        shape = _matmul_shapes(a.shape, b.shape)[4]
    if out is not None and (not is_array(out) or out.dtype != rdt or out.shape != shape):
        if not is_array(out) or out.ndim != len(shape) or out.shape != shape:
            raise ValueError("output array has wrong dimensions") if is_array(out) and \
                out.ndim == len(shape) else ValueError(
                "output array is not acceptable (must have the right datatype, number of "
                "dimensions, and be a C-Array)")
        raise ValueError("output array is not acceptable (must have the right datatype, "
                         "number of dimensions, and be a C-Array)")
    if out is not None:
        require_writeable(out, "output array is not acceptable (must have the right "
                          "datatype, number of dimensions, and be a C-Array)")
    if b.ndim > 2 and a.ndim >= 2:
        res = tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))
        if out is not None:
            from hpcarray._api.manipulation import copyto

            copyto(out, res, casting="unsafe")
            return out
        return res
    batch, n, k, m, _ = _matmul_shapes(a.shape, b.shape)
    res = _out_target(out, shape, rdt, (a, b))
    _matmul_into(res, a, b, batch, n, k, m, a.ndim == 1, b.ndim == 1, {})
    return _finish(res, out)


def vdot(a, b, /):
    a, b = _arr(a), _arr(b)
    if a.size != b.size:
        np.vdot(_stand(a), _stand(b))
        raise ValueError("vectors have different lengths")  # pragma: no cover
    rdt = np.vdot(np.zeros(1, a.dtype), np.zeros(1, b.dtype)).dtype
    x = a.ravel()
    if x.dtype.kind == "c":
        from hpcarray._api.ufuncs import apply

        x = apply(np.conjugate, x)
    y = b.ravel()
    res = new_array((), rdt)
    n = x.size
    _matmul_into(res, x, y, (), 1, n, 1, True, True, {})
    return to_numpy(res)[()]


def _tensordot_axes(a, b, axes):
    try:
        iter(axes)
    except TypeError:
        n = operator.index(axes)
        axes_a = list(range(a.ndim - n, a.ndim)) if n > 0 else []
        axes_b = list(range(0, n)) if n > 0 else []
        if n < 0:
            axes_a, axes_b = [], []
        return axes_a, axes_b, n
    axes_a, axes_b = axes
    try:
        axes_a = [operator.index(x) for x in axes_a]
    except TypeError:
        axes_a = [operator.index(axes_a)]
    try:
        axes_b = [operator.index(x) for x in axes_b]
    except TypeError:
        axes_b = [operator.index(axes_b)]
    return axes_a, axes_b, None


def tensordot(a, b, axes=2):
    from hpcarray._api.manipulation import reshape, transpose

    a, b = _arr(a), _arr(b)
    axes_a, axes_b, nint = _tensordot_axes(a, b, axes)
    ok = len(axes_a) == len(axes_b) and (nint is None or nint <= min(a.ndim, b.ndim))
    if ok:
        try:
            axes_a = [ax + a.ndim if ax < 0 else ax for ax in axes_a]
            axes_b = [ax + b.ndim if ax < 0 else ax for ax in axes_b]
            ok = all(0 <= ax < a.ndim for ax in axes_a) and all(0 <= ax < b.ndim
                                                                 for ax in axes_b)
            ok = ok and all(a.shape[x] == b.shape[y] for x, y in zip(axes_a, axes_b))
            ok = ok and len(set(axes_a)) == len(axes_a) and len(set(axes_b)) == len(axes_b)
        except IndexError:
            ok = False
    if not ok or (nint is not None and nint < 0):
        np.tensordot(_stand(a), _stand(b), axes)
        if not ok:
            raise ValueError("shape-mismatch for sum")  # pragma: no cover
    free_a = [d for d in range(a.ndim) if d not in axes_a]
    free_b = [d for d in range(b.ndim) if d not in axes_b]
    kk = 1
    for d in axes_a:
        kk *= a.shape[d]
    mm = 1
    for d in free_a:
        mm *= a.shape[d]
    nn = 1
    for d in free_b:
        nn *= b.shape[d]
    at = transpose(a, tuple(free_a + axes_a)) if free_a + axes_a != list(range(a.ndim)) else a
    bt = transpose(b, tuple(axes_b + free_b)) if axes_b + free_b != list(range(b.ndim)) else b
    a2 = reshape(at, (mm, kk))
    b2 = reshape(bt, (kk, nn))
    rdt = np.dot(np.zeros((1, 1), a.dtype), np.zeros((1, 1), b.dtype)).dtype
    res = new_array((mm, nn), rdt)
    _matmul_into(res, a2, b2, (), mm, kk, nn, False, False, {})
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return reshape(res, shape)


def inner(a, b, /):
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        return _mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        np.inner(_stand(a), _stand(b))
        raise ValueError("shapes not aligned")  # pragma: no cover
    rdt = np.inner(_tiny(a), _tiny(b)).dtype
    res = tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))
    if res.dtype != rdt:
        res = res.astype(rdt)
    if res.ndim == 0:
        return to_numpy(res)[()]
    return res


def outer(a, b, out=None):
    from hpcarray._api.manipulation import reshape

    a, b = _arr(a), _arr(b)
    x = reshape(a, (a.size, 1))
    y = reshape(b, (1, b.size))
    return _mul(x, y, out)


# -- trace, norms ----------------------------------------------------------------------


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    from hpcarray._api.manipulation import diagonal
    from hpcarray._api.reductions import sum as _sum

    x = _arr(a)
    d = diagonal(x, offset, axis1, axis2)
    return _sum(d, axis=-1, dtype=dtype, out=out)


def _apply(uf, *args, **kw):
    from hpcarray._api.ufuncs import apply

    return apply(uf, *args, **kw)


def _sumsq(x, axis, keepdims):
    from hpcarray._api.reductions import ufunc_reduce

    if x.dtype.kind == "c":
        re, im = x.real, x.imag
        s = _apply(np.add, _apply(np.multiply, re, re), _apply(np.multiply, im, im))
    else:
        s = _apply(np.multiply, x, x)
    # `s` is ours and read by nothing else: reduced as it is computed, never stored.
    return ufunc_reduce(np.add, s, axis, None, None, keepdims, temporary=True)


def norm(x, ord=None, axis=None, keepdims=False):
    from hpcarray._api.manipulation import reshape
    from hpcarray._api.reductions import max as _max
    from hpcarray._api.reductions import min as _min
    from hpcarray._api.reductions import sum as _sum

    x = _arr(x)
    if x.dtype.kind not in "fc":
        x = x.astype(float)
    nd = x.ndim
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            r = _apply(np.sqrt, _sumsq(x, None, False))
            if keepdims:
                return reshape(asarray(r), (1,) * nd)
            return r
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from None
    if len(axis) == 1:
        ax = axis[0]
        if ord == np.inf:
            return _max(_apply(np.absolute, x), axis=ax, keepdims=keepdims)
        if ord == -np.inf:
            return _min(_apply(np.absolute, x), axis=ax, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        if ord == 0:
            nz = _apply(np.not_equal, x, 0).astype(x.real.dtype)
            return _sum(nz, axis=ax, keepdims=keepdims)
        if ord == 1:
            return _sum(_apply(np.absolute, x), axis=ax, keepdims=keepdims)
        if ord is None or ord == 2:
            return _apply(np.sqrt, _sumsq(x, ax, keepdims))
        try:
            float(ord)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid norm order '{ord}' for vectors") from None
        absx = _apply(np.absolute, x)
        absx = _apply(np.power, absx, ord)
        r = _sum(absx, axis=ax, keepdims=keepdims)
        rdt = r.dtype
        return _apply(np.power, r, np.reciprocal(np.asarray(ord, dtype=rdt)))
    if len(axis) == 2:
        from hpcarray._api.reductions import normalize_axes

        row, col = axis
        row = normalize_axes(row, nd)[0]
        col = normalize_axes(col, nd)[0]
        if row == col:
            raise ValueError("Duplicate axes given.")
        if ord in (2, -2, "nuc"):
            res = _gathered(np.linalg.norm, x, ord=ord, axis=(row, col), keepdims=keepdims)
            return res
        if ord == 1 or ord == -1:
            red = _max if ord == 1 else _min
            c = col - 1 if col > row else col
            r = red(_sum(_apply(np.absolute, x), axis=row), axis=c)
        elif ord == np.inf or ord == -np.inf:
            red = _max if ord == np.inf else _min
            rr = row - 1 if row > col else row
            r = red(_sum(_apply(np.absolute, x), axis=col), axis=rr)
        elif ord in (None, "fro", "f"):
            r = _apply(np.sqrt, _sumsq(x, (row, col), False))
        else:
            raise ValueError("Invalid norm order for matrices.")
        if keepdims:
            shape = list(x.shape)
            shape[row] = 1
            shape[col] = 1
            return reshape(asarray(r), tuple(shape))
        return r
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    from hpcarray._api.manipulation import reshape

    x = _arr(x)
    shape = x.shape
    if axis is None:
        flat = reshape(x, (-1,))
        r = norm(flat, ord=ord, axis=0)
        if keepdims:
            return reshape(asarray(r), (1,) * len(shape))
        return r
    if isinstance(axis, tuple) and len(axis) > 1:
        return _gathered(np.linalg.vector_norm, x, axis=axis, keepdims=keepdims, ord=ord)
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# -- gathered dense solvers ----------------------------------------------------------------


def _gathered(fn, *args, **kwargs):
    """Run a NumPy routine on gathered arguments and re-distribute its results.

    Used for small dense factorizations (solve, inv, det, eigh, cholesky, qr, svd, lstsq,
    ...): every rank gathers the operands and runs LAPACK redundantly. No FallbackWarning:
    this is the intended implementation for these routines, not a missing one.
    """
    from hpcarray._api.convert import hpc_results, numpy_args

    res = fn(*numpy_args(args), **numpy_args(kwargs))
    if isinstance(res, tuple) and hasattr(res, "_fields"):
        return type(res)(*[hpc_results(v) for v in res])
    return hpc_results(res)


def _make_gathered(name):
    fn = getattr(np.linalg, name)

    def wrapper(*args, **kwargs):
        return _gathered(fn, *args, **kwargs)

    wrapper.__name__ = name
    wrapper.__qualname__ = name
    wrapper.__doc__ = (f"numpy.linalg.{name} on gathered operands (a small dense problem; "
                       f"computed redundantly on every rank, results re-distributed).")
    return replicated_across_ranks(wrapper)


GATHERED = ("solve", "inv", "det", "slogdet", "eig", "eigh", "eigvals", "eigvalsh",
            "cholesky", "qr", "svd", "svdvals", "lstsq", "pinv", "matrix_rank", "cond",
            "tensorinv", "tensorsolve")

gathered = {name: _make_gathered(name) for name in GATHERED if hasattr(np.linalg, name)}


def multi_dot(arrays, *, out=None):
    arrays = [_arr(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    res = arrays[0]
    for x in arrays[1:]:
        res = dot(res, x)
    if out is not None:
        from hpcarray._api.manipulation import copyto

        copyto(out, res, casting="unsafe")
        return out
    return res


def matrix_power(a, n):
    from hpcarray._api.creation import eye

    a = _arr(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        np.linalg.matrix_power(_stand(a), 1)
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError("exponent must be an integer") from None
    if n < 0:
        a = gathered["inv"](a)
        n = -n
    if n == 0:
        from hpcarray._api.manipulation import broadcast_to

        e = eye(a.shape[-1], dtype=a.dtype)
        return broadcast_to(e, a.shape).copy()
    result = None
    z = a
    while n:
        if n & 1:
            result = z if result is None else matmul(result, z)
        n >>= 1
        if n:
            z = matmul(z, z)
    return result if result is not a else a.copy()
