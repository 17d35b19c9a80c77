"""hpcarray.random draws NumPy's exact streams, whatever the partitioning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from compare import assert_same
from hypothesis import given
from hypothesis import strategies as st

import hpcarray as hp
from hpcarray._api.convert import is_array

shapes = st.lists(st.integers(1, 7), min_size=1, max_size=4).map(tuple)


@pytest.fixture(autouse=True)
def _no_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("error", hp.FallbackWarning)
        yield


def _legacy_calls(mod, shape):
    r = mod.random
    return [
        r.rand(*shape), r.randn(*shape), r.rand(), r.randn(), r.random(shape),
        r.random_sample(shape), r.random(), r.randint(0, 100, shape), r.randint(5),
        r.uniform(-1, 2, shape), r.uniform(), r.normal(3, 2, shape), r.normal(),
        r.standard_normal(shape), r.standard_normal(), r.choice(10, shape),
        r.choice(5, 3, replace=False), r.permutation(9), r.exponential(2.0, shape),
        r.randint(-3, 3, shape, dtype=np.int8), r.poisson(3.0, shape),
    ]


@given(shapes, st.integers(0, 2**32 - 1))
def test_legacy_stream_matches_numpy(shape, seed):
    hp.random.seed(seed)
    got = _legacy_calls(hp, shape)
    np.random.seed(seed)
    expected = _legacy_calls(np, shape)
    for g, e in zip(got, expected):
        if isinstance(e, float):
            assert type(g) is float and g == e
        else:
            assert_same(g, e)


def test_seed_seeds_numpy_global_state():
    hp.random.seed(123)
    a = np.random.rand(3)           # numpy's own global state was seeded by hpcarray
    hp.random.seed(123)
    b = hp.random.rand(3)
    assert_same(b, a)
    st0 = hp.random.get_state()
    x = hp.random.rand(4)
    hp.random.set_state(st0)
    assert_same(hp.random.rand(4), np.asarray(x))


def test_legacy_array_parameters_and_shuffle():
    mu = hp.arange(6.0)
    hp.random.seed(5)
    g = hp.random.normal(mu, 1.0)
    np.random.seed(5)
    e = np.random.normal(np.arange(6.0), 1.0)
    assert_same(g, e)
    x = hp.arange(20).reshape(10, 2)
    y = np.arange(20).reshape(10, 2)
    hp.random.seed(7)
    assert hp.random.shuffle(x) is None
    np.random.seed(7)
    np.random.shuffle(y)
    assert_same(x, y)
    hp.random.seed(8)
    p = hp.random.permutation(hp.arange(12))
    np.random.seed(8)
    assert_same(p, np.random.permutation(np.arange(12)))


def _gen_calls(rng, shape):
    return [
        rng.random(shape), rng.random(), rng.integers(0, 10, shape), rng.integers(7),
        rng.uniform(-3, 5, shape), rng.uniform(), rng.normal(1, 2, shape), rng.normal(),
        rng.standard_normal(shape), rng.random(shape, dtype=np.float32),
        rng.integers(0, 2**31, shape, dtype=np.int32), rng.random(shape),
        rng.integers(0, 5, 3, dtype=np.uint8), rng.uniform(0, 1, shape),
        rng.choice(10, 4), rng.permutation(8), rng.exponential(1.0, shape),
    ]


@given(shapes, st.integers(0, 2**63))
def test_generator_stream_matches_numpy(shape, seed):
    got = _gen_calls(hp.random.default_rng(seed), shape)
    expected = _gen_calls(np.random.default_rng(seed), shape)
    for g, e in zip(got, expected):
        if isinstance(e, (float, int)) and not isinstance(e, np.generic):
            assert type(g) is type(e) and g == e
        else:
            assert_same(g, e)


def test_generator_state_after_parallel_draw():
    g, e = hp.random.default_rng(11), np.random.default_rng(11)
    # A buffered 32-bit half must survive the tile-parallel advance.
    g.integers(0, 10, dtype=np.int32)
    e.integers(0, 10, dtype=np.int32)
    assert_same(g.random((9, 8)), e.random((9, 8)))
    assert g.bit_generator.state == e.bit_generator.state
    out = hp.zeros((4, 6))
    assert g.random(out=out) is out
    assert_same(out, e.random((4, 6)))


def test_generator_api():
    g = hp.random.default_rng(3)
    assert isinstance(g, hp.random.Generator)
    assert hp.random.default_rng(g) is g
    assert isinstance(hp.random.Generator(np.random.PCG64(1)), hp.random.Generator)
    assert is_array(g.random(3))
    with pytest.raises(OverflowError):
        g.uniform(-np.inf, 0, 5)
    x = hp.arange(10)
    g2 = np.random.default_rng(3)
    g2.random(3)
    g.shuffle(x)
    y = np.arange(10)
    g2.shuffle(y)
    assert_same(x, y)


def test_other_bit_generators_sequential():
    g = hp.random.Generator(np.random.Philox(4))
    e = np.random.Generator(np.random.Philox(4))
    assert_same(g.random((5, 5)), e.random((5, 5)))
    assert_same(g.uniform(1, 2, 7), e.uniform(1, 2, 7))


_SCRIPT = r"""
import hashlib, json, sys
import numpy
import hpcarray as np
out = {}
np.random.seed(2024)
out["legacy"] = [np.random.rand(13, 7), np.random.randn(40), np.random.randint(0, 9, (6, 5))]
rng = np.random.default_rng(99)
out["gen"] = [rng.random((37, 23)), rng.uniform(-1, 1, (5, 31, 4)), rng.normal(size=(17,)),
              rng.random(1001), rng.integers(0, 1000, (9, 9))]
res = {k: [hashlib.sha256(numpy.ascontiguousarray(numpy.asarray(a)).tobytes()).hexdigest()
           for a in v] for k, v in out.items()}
numpy.random.seed(2024)
ref = [numpy.random.rand(13, 7), numpy.random.randn(40), numpy.random.randint(0, 9, (6, 5))]
r2 = numpy.random.default_rng(99)
ref2 = [r2.random((37, 23)), r2.uniform(-1, 1, (5, 31, 4)), r2.normal(size=(17,)),
        r2.random(1001), r2.integers(0, 1000, (9, 9))]
res["numpy"] = [hashlib.sha256(numpy.ascontiguousarray(a).tobytes()).hexdigest()
                for a in ref + ref2]
json.dump(res, sys.stdout)
"""


@pytest.mark.parametrize("env", [
    {"HPCARRAY_TEST": "1", "HPCARRAY_TEST_TILES": "3", "HPCARRAY_WORKERS": "1"},
    {"HPCARRAY_TEST": "1", "HPCARRAY_TEST_TILES": "7", "HPCARRAY_WORKERS": "2"},
    {"HPCARRAY_TEST": "0", "HPCARRAY_WORKERS": "2", "HPCARRAY_MIN_SPLIT": "64"},
    {"HPCARRAY_TEST": "0", "HPCARRAY_WORKERS": "1"},
])
@pytest.mark.no_mpi
def test_partition_independence_subprocess(env):
    full = dict(os.environ)
    full.update(env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=full, cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["legacy"] + res["gen"] == res["numpy"]
