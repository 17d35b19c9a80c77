"""The mark of native functions that are distributed on one rank only.

Across ranks such a function runs whole on every rank: it gathers its operands (small
dense problems: linalg.solve, inv, ...; index helpers: ix_, unravel_index, ...) or draws
NumPy's sequential random stream in full (legacy numpy.random). It is correct at any
number of ranks, but its work and memory do not shrink with them. The API coverage table
(docs/api.md, made by docs/generate.py) is read off these marks and FallbackWarning's.
Functions that gather only in corner cases (sort with order=, pad with a callable) are not
marked: their usual path is distributed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def replicated_across_ranks(fn: F) -> F:
    fn.__hpcarray_replicated__ = True  # type: ignore[attr-defined]
    return fn


def is_replicated(fn) -> bool:
    return bool(getattr(fn, "__hpcarray_replicated__", False))
