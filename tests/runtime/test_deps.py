"""Dependence analysis on rectangles: RAW, WAR, WAW, no edge between readers or between
disjoint rectangles; aliases of one root conflict conservatively."""

import itertools

import numpy as np

from hpcarray.runtime.deps import find_dependences
from hpcarray.runtime.partition import Tiling
from hpcarray.runtime.scheduler import Operation, Task
from hpcarray.runtime.store import Store


def _store(shape=(10, 10)):
    return Store(np.zeros(shape), Tiling(shape, (1, 1)))


def _task(i):
    return Task(i, Operation(0, "op", ""), lambda: None, ())


class Edges:
    def __init__(self):
        self.edges = []

    def edge(self, src, dst, kind):
        self.edges.append((src, dst, kind))


def test_kinds_and_disjoint_rectangles():
    s = _store()
    keys = itertools.count()
    rec = Edges()
    t0, t1, t2, t3, t4 = (_task(i) for i in range(5))
    find_dependences(t0, [(s, ((0, 5), (0, 10)), True)], keys, rec)     # write top
    find_dependences(t1, [(s, ((5, 10), (0, 10)), True)], keys, rec)    # write bottom: disjoint
    find_dependences(t2, [(s, ((4, 6), (0, 10)), False)], keys, rec)    # read both: RAW x2
    find_dependences(t3, [(s, ((4, 6), (0, 10)), False)], keys, rec)    # reader after reader
    find_dependences(t4, [(s, ((0, 10), (0, 10)), True)], keys, rec)    # write all
    e = set(rec.edges)
    assert (0, 1, "WAW") not in e and (0, 1, "RAW") not in e
    assert {(0, 2, "RAW"), (1, 2, "RAW")} <= e
    assert not any(src == 2 and dst == 3 for src, dst, _ in e)
    assert (2, 4, "WAR") in e and (3, 4, "WAR") in e
    assert (0, 4, "WAW") in e and (1, 4, "WAW") in e


def test_aliases_conflict_conservatively():
    root = _store((4, 6))
    alias = Store(root.buffer.reshape(24), Tiling((24,), (1,)), root=root)
    keys = itertools.count()
    t0, t1 = _task(0), _task(1)
    find_dependences(t0, [(root, ((0, 1), (0, 1)), True)], keys, None)
    preds = find_dependences(t1, [(alias, ((20, 24),), False)], keys, None)
    assert t0 in preds
