"""View.window: a rectangle of a view as a NumPy view of its store's buffer, the same
elements as the whole view's NumPy view cut there (slices, negative steps, integer
indices, transposes, broadcasts)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hpcarray.runtime.partition import tile_index
from hpcarray.runtime.store import Store
from hpcarray.runtime.view import View

_bound = st.one_of(st.none(), st.integers(-7, 7))


@st.composite
def views(draw):
    buf = np.arange(6 * 7 * 5, dtype=float).reshape(6, 7, 5)
    v = View.whole(Store(buf, None))
    key = tuple(slice(draw(_bound), draw(_bound), draw(st.sampled_from([1, 2, -1, -3])))
                for _ in range(3))
    v = v.index(key)
    v = v.transpose(tuple(draw(st.permutations(range(3)))))
    if v.shape[0] and draw(st.booleans()):
        v = v.index((draw(st.integers(0, v.shape[0] - 1)),))
    if draw(st.booleans()):
        v = v.broadcast_to((2, *v.shape))
    return v


@given(views(), st.data())
def test_window_is_the_whole_view_cut_at_the_rectangle(v, data):
    rect = []
    for n in v.shape:
        lo = data.draw(st.integers(0, n))
        rect.append((lo, data.draw(st.integers(lo, n))))
    rect = tuple(rect)
    w, ref = v.window(rect), v.to_numpy()[tile_index(rect)]
    assert w.shape == ref.shape and np.array_equal(w, ref)
    assert np.shares_memory(w, v.store.buffer) or w.size == 0
