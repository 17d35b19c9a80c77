"""Floating-point conditions of compiled CPU kernels: the IEEE sticky flags, cleared
before a compiled call and tested after it on the worker thread (fenv is per thread, and
NumPy clears the flags before each of its own loops), noted for the task running as
runtime/fpe.py reports NumPy's own conditions."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

from hpcarray.runtime import fpe
from hpcarray.runtime.fpe import DIVIDE, INVALID, OVER, UNDER

# glibc's FE_* bits -> NumPy's (x86-64 and aarch64); elsewhere compiled kernels go unchecked.
_X86 = {4: DIVIDE, 8: OVER, 16: UNDER, 1: INVALID}
_ARM = {2: DIVIDE, 4: OVER, 8: UNDER, 1: INVALID}
_FE = {"x86_64": _X86, "AMD64": _X86, "aarch64": _ARM, "arm64": _ARM}.get(platform.machine())
_fe_clear = _fe_test = None
if _FE is not None:
    try:
        _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        _fe_clear, _fe_test = _libm.feclearexcept, _libm.fetestexcept
        _FE_ALL = sum(_FE)
    except (OSError, AttributeError):  # pragma: no cover
        _FE = None


def run_compiled(fn, args, members, exact=None) -> None:
    """`fn(*args)`, a compiled kernel, with the IEEE flags it raises noted for the task
    running (if it checks): each condition for the first of `members` ((issue, name,
    conditions its code may raise) in program order) that can raise it. Where several
    could, `exact()` may find out (rerunning the steps through NumPy, whose checks note
    them; False if it cannot). (Compiled comparisons may raise 'invalid' for NaN where
    NumPy's do not: members that cannot raise a condition never get it.)"""
    if _FE is None or fpe.hits() is None:
        fn(*args)
        return
    _fe_clear(_FE_ALL)
    fn(*args)
    raw = _fe_test(_FE_ALL)
    if raw:
        bits = _wanted(raw, members)
        if bits and (exact is None or not _ambiguous(bits, members) or not exact()):
            _note(bits, members)


def _wanted(raw: int, members) -> list[int]:
    """The conditions in IEEE flags `raw` that some member that can raise them reports
    (underflow, ignored by default, costs nothing)."""
    return [bit for fe, bit in _FE.items() if raw & fe and any(
        can & bit and issue is not None and issue.mode(bit) != "ignore"
        for issue, _, can in members)]


def _ambiguous(bits: list[int], members) -> bool:
    return any(len({(id(issue), name) for issue, name, can in members if can & bit}) > 1
               for bit in bits)


def _note(bits: list[int], members) -> None:
    hits = fpe.hits()
    for bit in bits:
        for issue, name, can in members:
            if can & bit:
                hits.append((issue, bit, name))
                break
