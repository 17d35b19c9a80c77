"""Dependence analysis on rectangle overlap: RAW, WAR and WAW between point tasks.

Each store root keeps the accesses of its pending (not finished) tasks. A new access
depends on every earlier pending access of the same root that overlaps it where at least
one of the two writes. Accesses through different stores of one root (aliases with
different shapes) are taken to overlap: conservative, and correct.
"""

from __future__ import annotations

from hpcarray.runtime.partition import overlaps


def dependence_kind(reads_then: bool, writes_now: bool) -> str:
    if not writes_now:
        return "RAW"
    return "WAR" if reads_then else "WAW"


def find_dependences(task, reqs, keys, recorder) -> dict:
    """Register `task`'s requirements and return its predecessors (task -> kind)."""
    preds: dict = {}
    for store, rect, write in reqs:
        accesses = store.accesses
        for other, other_store, other_rect, other_write in accesses.values():
            if other is task or not (write or other_write) or other in preds:
                continue
            if other_store is not store or overlaps(rect, other_rect):
                kind = dependence_kind(not other_write, write)
                preds[other] = kind
                if recorder is not None:
                    recorder.edge(other.id, task.id, kind)
        key = next(keys)
        accesses[key] = (task, store, rect, write)
        task.keys.append((accesses, key))
    return preds
