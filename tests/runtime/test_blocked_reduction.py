"""Float sums and products come out bit for bit the same whatever the tiling (number of
ranks and workers): partials are taken per block of the shape, tiles are cut on block
edges. The multi-rank side is tests/mpi/test_mpi.py (the stencil checksum at 1-4 ranks)."""

from __future__ import annotations

import numpy as np
import pytest
from compare import runtime_with

import hpcarray as hp
from hpcarray.runtime.partition import aligned_bounds, reduction_block


@pytest.mark.parametrize("n", [1, 15, 16, 100, 1000, 8002])
@pytest.mark.parametrize("pieces", [1, 2, 3, 4, 7])
def test_aligned_bounds_cut_on_block_edges(n, pieces):
    edges = aligned_bounds(n, pieces)
    assert edges[0] == 0 and edges[-1] == n and len(edges) == pieces + 1
    assert all(a < b for a, b in zip(edges, edges[1:])) or n < pieces
    q = reduction_block(n)
    if n >= 4 * q * pieces:
        assert all(e % q == 0 for e in edges[:-1])
        assert max(b - a for a, b in zip(edges, edges[1:])) <= n // pieces + q + 1


def test_a_grid_and_its_interior_are_cut_alike():
    # Their tiles line up (to a block at worst), so a stencil's halos stay a few rows.
    for n in (400, 1000, 8000):
        for pieces in (2, 3, 4):
            inner, grid = aligned_bounds(n, pieces), aligned_bounds(n + 2, pieces)
            assert all(abs(a - b) <= reduction_block(n) for a, b in zip(inner, grid))
    assert aligned_bounds(8002, 2) == (0, 3968, 8002) and aligned_bounds(8000, 2)[1] == 3968


def _results(workers: int, data: dict) -> dict:
    out = {}
    with runtime_with(workers=workers, test_mode=False, min_split_elements=64):
        for name, a in data.items():
            x = hp.asarray(a)
            out[name + " sum"] = np.asarray(hp.sum(x))
            out[name + " sum0"] = np.asarray(hp.sum(x, axis=0))
            out[name + " mean-1"] = np.asarray(hp.mean(x, axis=-1))
            out[name + " prod"] = np.asarray(hp.prod(x * 0 + 1.0001))
            out[name + " fused"] = np.asarray(hp.sum(x * 3 + 1))
    return out


def test_sums_are_the_same_bits_for_any_number_of_workers():
    rng = np.random.default_rng(3)
    data = {"1d": rng.standard_normal(100_003),
            "2d": rng.standard_normal((301, 257)),
            "3d": rng.standard_normal((40, 31, 33)).astype(np.float32),
            "complex": rng.standard_normal((97, 90)) + 1j * rng.standard_normal((97, 90))}
    runs = [_results(w, data) for w in (1, 2, 3, 4, 6)]
    for key in runs[0]:
        for other in runs[1:]:
            assert runs[0][key].tobytes() == other[key].tobytes(), key
        expected = {"sum": np.sum, "sum0": lambda a: np.sum(a, axis=0),
                    "mean-1": lambda a: np.mean(a, axis=-1)}.get(key.split()[1])
        if expected is not None:
            a = data[key.split()[0]]
            tol = 1e-4 if a.dtype == np.float32 else 1e-10
            np.testing.assert_allclose(runs[0][key], expected(a), rtol=tol, atol=tol)
