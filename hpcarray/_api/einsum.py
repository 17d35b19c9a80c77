"""einsum on tiles: one task per output tile, each calling np.einsum on the input slabs
that tile needs (subscripts in string or sublist form, `...`, implicit output)."""

from __future__ import annotations

import operator

import numpy as np

from hpcarray._api.convert import is_array, require_writeable, to_numpy
from hpcarray._api.linalg import _arr, _finish, _out_target, _stand, _tiny
from hpcarray.runtime import get_runtime, tasks
from hpcarray.runtime.partition import rect_slices

# -- parsing ------------------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_to_str(sub):
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        else:
            i = operator.index(s)
            if not 0 <= i < 52:
                raise ValueError("subscript is not within the valid range [0, 52)")
            out.append(_LETTERS[i])
    return "".join(out)


def _einsum_parse(args):
    """(input label strings with ellipsis expanded, output labels, operands, explicit)."""
    if isinstance(args[0], str):
        subs = args[0].replace(" ", "")
        operands = list(args[1:])
    else:
        operands = list(args[0::2])
        subl = list(args[1::2])
        if len(args) % 2 == 1:
            out_sub = operands.pop()
            subs = ",".join(_sublist_to_str(s) for s in subl) + "->" + _sublist_to_str(out_sub)
        else:
            subs = ",".join(_sublist_to_str(s) for s in subl)
    if "->" in subs:
        in_part, out_part = subs.split("->", 1)
        explicit = True
    else:
        in_part, out_part, explicit = subs, "", False
    ins = in_part.split(",")
    if len(ins) != len(operands):
        return None
    operands = [_arr(x) for x in operands]
    used = set(c for c in subs if c.isalpha())
    spare = [c for c in _LETTERS if c not in used]
    ell_nd = 0
    for s, x in zip(ins, operands):
        if "..." in s:
            ell_nd = max(ell_nd, x.ndim - len(s.replace("...", "")))
    if ell_nd > len(spare):
        return None
    ell = "".join(spare[:ell_nd])
    labels = []
    for s, x in zip(ins, operands):
        if s.count("...") > 1 or not s.replace("...", "").isalpha() and s.replace("...", ""):
            return None
        if "..." in s:
            nd = x.ndim - len(s.replace("...", ""))
            if nd < 0:
                return None
            s = s.replace("...", ell[ell_nd - nd:] if nd else "")
        if len(s) != x.ndim:
            return None
        labels.append(s)
    if explicit:
        if out_part.count("...") > 1:
            return None
        out = out_part.replace("...", ell)
        if not (out.isalpha() or out == "") or len(set(out)) != len(out):
            return None
        if any(c not in "".join(labels) for c in out):
            return None
    else:
        counts: dict[str, int] = {}
        for s in labels:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return labels, out, operands


def einsum(*operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    if not operands:
        raise ValueError("No input operands")
    try:
        parsed = _einsum_parse(operands)
    except (TypeError, ValueError, AttributeError):
        parsed = None
    if parsed is None:
        return _einsum_numpy(operands, out, dtype, order, casting, optimize)
    labels, out_labels, ops_ = parsed
    extent: dict[str, int] = {}
    ok = True
    for s, x in zip(labels, ops_):
        seen: dict[str, int] = {}
        for c, n in zip(s, x.shape):
            if c in seen and seen[c] != n:
                ok = False
            seen[c] = n
            if n != 1:
                if extent.get(c, 1) not in (1, n):
                    ok = False
                extent[c] = n
            else:
                extent.setdefault(c, 1)
    if not ok:
        kw = {"dtype": dtype, "order": order, "casting": casting, "optimize": optimize}
        np.einsum(*[_stand(x) if is_array(x) else x for x in operands], **kw)  # raises
        return _einsum_numpy(operands, out, dtype, order, casting, optimize)
    subs = ",".join(labels) + "->" + out_labels
    kw = {"casting": casting}
    if dtype is not None:
        kw["dtype"] = dtype
    probe = np.einsum(subs, *[_tiny(x) for x in ops_], **kw)
    rdt = np.asarray(probe).dtype
    shape = tuple(extent[c] for c in out_labels)
    if out is not None:
        if not is_array(out):
            raise TypeError("'out' must be an array")
        require_writeable(out, "operand array with iterator write flag set is read-only")
        if out.shape != shape:
            return _einsum_numpy(operands, out, dtype, order, casting, optimize)
    res = _out_target(out, shape, rdt, ops_)
    _einsum_tiles(res, subs, labels, out_labels, ops_, kw, optimize)
    if out is not None:
        return _finish(res, out)
    if res.ndim == 0:
        return to_numpy(res)[()]
    return res


def _einsum_numpy(operands, out, dtype, order, casting, optimize):
    """NumPy's einsum on gathered data (its own errors; used for what we do not parse)."""
    from hpcarray._api.convert import hpc_results, numpy_args
    from hpcarray._fallback import warn_fallback

    kw = {"dtype": dtype, "order": order, "casting": casting, "optimize": optimize}
    stand_ins = [_stand(x) if is_array(x) else x for x in operands]
    # Shape/label errors come out of NumPy's parser before any computing happens.
    try:
        np.einsum(*[np.zeros((1,) * x.ndim, x.dtype) if is_array(x) else x
                    for x in operands], **kw)
    except ValueError:
        np.einsum(*stand_ins, **kw)
    warn_fallback("einsum")
    res = np.einsum(*numpy_args(operands), **kw)
    res = hpc_results(res)
    if out is not None:
        from hpcarray._api.manipulation import copyto

        copyto(out, res, casting="unsafe")
        return out
    return res


def _einsum_tiles(res, subs, labels, out_labels, ops_, kw, optimize):
    rt = get_runtime()
    if res.size == 0:
        return
    nps = [x._np for x in ops_]
    onp = res._np
    kernel_kw = dict(kw)
    kernel_kw["optimize"] = optimize
    if rt.idle and rt.is_small(res.size) and all(rt.is_small(x.size) for x in ops_):
        onp[...] = np.einsum(subs, *nps, **kernel_kw)
        return
    if tasks.needs_replication(rt, [res._v, *[x._v for x in ops_]]):
        def compute():
            onp[...] = np.einsum(subs, *nps, **kernel_kw)
        tasks.replicated(rt, "einsum", compute, [res._v], [x._v for x in ops_])
        return
    pos = {c: i for i, c in enumerate(out_labels)}
    op = rt.operation("einsum", [x._v.store for x in ops_], [res._v.store])
    for rect, owner in res._v.launch_tiles():
        slabs_sl = []
        reqs = [(res._v.store, res._v.image(rect), True)]
        for s, x in zip(labels, ops_):
            r = []
            for c, n in zip(s, x.shape):
                if c in pos and n == res.shape[pos[c]] and n != 1:
                    r.append(rect[pos[c]])
                elif c in pos and n == 1 and res.shape[pos[c]] == 1:
                    r.append(rect[pos[c]])
                else:
                    r.append((0, n))
            r = tuple(r)
            slabs_sl.append(rect_slices(r))
            if x.size:
                reqs.append((x._v.store, x._v.image(r), False))
        osl = rect_slices(rect)

        def kernel(osl=osl, slabs_sl=slabs_sl):
            o = onp[osl] if osl else onp
            o[...] = np.einsum(subs, *[a[sl] for a, sl in zip(nps, slabs_sl)], **kernel_kw)

        tasks.launch(rt, op, kernel, rect, owner, reqs[:1], reqs[1:],
                   nbytes=onp.itemsize * max(1, res.size))
    tasks.note_writes(rt, [res._v])


