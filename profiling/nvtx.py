"""Cheap NVTX ranges for the runtime, in the NVTX domain "hpcarray".

The runtime guards every call with the module flag, so a disabled profiler costs one
attribute read::

    from hpcarray.profiling import nvtx as _nvtx
    if _nvtx.ENABLED:
        _nvtx.push(op_name, "task")
    ...
    if _nvtx.ENABLED:
        _nvtx.pop()

Ranges are enabled by ``HPCARRAY_NVTX=1`` in the environment (read at import) or by
:func:`enable`. The ``nvtx`` package is imported only once a range is pushed; attribute
objects are cached per (name, kind), since building one costs ~1 µs and pushing one ~0.1 µs.
Without a tool attached (Nsight Systems, or an injection library named by
``NVTX_INJECTION64_PATH``) the ``nvtx`` package itself turns the calls into no-ops.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

DOMAIN = "hpcarray"
COLORS = {"task": 0x2CA02C, "copy": 0xD62728, "api": 0x1F77B4}
OTHER_COLOR = 0x7F7F7F

ENABLED: bool = os.environ.get("HPCARRAY_NVTX", "").strip().lower() in ("1", "true", "yes", "on")

_domain: Any = None
_attrs: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def enabled() -> bool:
    """True when ranges are emitted (HPCARRAY_NVTX=1, or after :func:`enable`)."""
    return ENABLED


def enable() -> None:
    """Emit ranges from now on (the profiler must already be attached to see them)."""
    global ENABLED
    ENABLED = True


def disable() -> None:
    global ENABLED
    ENABLED = False


def _get_domain() -> Any:
    global _domain
    with _lock:
        if _domain is None:
            import nvtx as _nv  # deferred: costs nothing unless ranges are on

            _domain = _nv.get_domain(DOMAIN)
    return _domain


def _attributes(name: str, kind: str) -> Any:
    key = (name, kind)
    a = _attrs.get(key)
    if a is None:
        d = _domain if _domain is not None else _get_domain()
        category = d.get_category_id(kind)
        a = d.get_event_attributes(message=name, color=COLORS.get(kind, OTHER_COLOR),
                                   category=category)
        if a is None:  # no tool attached: a do-nothing domain; cache a marker
            a = False
        _attrs[key] = a
    return a


def push(name: str, kind: str = "task") -> None:
    """Open a range named ``name`` on this thread; ``kind`` is "task", "copy" or "api"."""
    if not ENABLED:
        return
    a = _attrs.get((name, kind))
    if a is None:
        a = _attributes(name, kind)
    if a is not False:
        _domain.push_range(a)


def pop() -> None:
    """Close the innermost range opened on this thread by :func:`push`."""
    if not ENABLED or _domain is None:
        return
    _domain.pop_range()


class _ApiRange:
    __slots__ = ("name", "pushed")

    def __init__(self, name: str) -> None:
        self.name = name
        self.pushed = False

    def __enter__(self) -> _ApiRange:
        if ENABLED:
            push(self.name, "api")
            self.pushed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pushed:
            pop()


_NULL = contextlib.nullcontext()


def api_range(name: str) -> contextlib.AbstractContextManager:
    """A range around a user-level API call (``with api_range("hpcarray.matmul"): ...``)."""
    return _ApiRange(name) if ENABLED else _NULL
