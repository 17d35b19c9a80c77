"""Differential tests of hpcarray's linear algebra against NumPy (forced small tiles)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from compare import assert_same
from hypothesis import given
from hypothesis import strategies as st

import hpcarray as hp
from hpcarray._api.convert import is_array

DTYPES = [np.int64, np.int32, np.float64, np.float32, np.complex128, np.bool_]


def _data(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        return rng.integers(-5, 6, shape).astype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _tol(*dtypes):
    if any(np.dtype(d) in (np.float32, np.complex64) for d in dtypes):
        return {"rtol": 2e-4, "atol": 1e-4}
    return {"rtol": 1e-9, "atol": 1e-9}


def _check(got, expected, *dtypes):
    exact = all(np.dtype(d).kind in "biu" for d in dtypes)
    assert_same(got, expected, exact=exact, **_tol(*dtypes))


dims = st.integers(1, 7)


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(dims), draw(dims), draw(dims)
    kind = draw(st.sampled_from(["mm", "vv", "vm", "mv", "batch", "bcast"]))
    if kind == "mm":
        return (n, k), (k, m)
    if kind == "vv":
        return (k,), (k,)
    if kind == "vm":
        return (k,), draw(st.sampled_from([(k, m), (2, k, m)]))
    if kind == "mv":
        return draw(st.sampled_from([(n, k), (3, n, k)])), (k,)
    if kind == "batch":
        b = draw(st.integers(1, 3))
        return (b, n, k), (b, k, m)
    b1, b2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (b1, 1, n, k), (b2, k, m)


@given(matmul_shapes(), st.sampled_from(DTYPES), st.sampled_from(DTYPES),
       st.integers(0, 2**16))
def test_matmul(shapes, da, db, seed):
    a, b = _data(shapes[0], da, seed), _data(shapes[1], db, seed + 1)
    got = hp.matmul(hp.array(a), hp.array(b))
    _check(got, np.matmul(a, b), da, db)
    _check(hp.array(a) @ hp.array(b), a @ b, da, db)


@given(matmul_shapes(), st.sampled_from(DTYPES), st.integers(0, 2**16))
def test_dot(shapes, dt, seed):
    a, b = _data(shapes[0], dt, seed), _data(shapes[1], dt, seed + 1)
    _check(hp.dot(hp.array(a), hp.array(b)), np.dot(a, b), dt)
    _check(hp.array(a).dot(hp.array(b)), a.dot(b), dt)


@pytest.mark.parametrize("sa,sb", [((2, 3, 4), (5, 4, 6)), ((3, 4), (2, 4, 5)), ((), (3,)),
                                   ((3, 4), ()), ((2, 3), (3,))])
def test_dot_nd_and_scalars(sa, sb):
    a, b = _data(sa, np.float64, 1), _data(sb, np.float64, 2)
    _check(hp.dot(hp.array(a), hp.array(b)), np.dot(a, b), np.float64)
    _check(hp.dot(3, 4), np.dot(3, 4), np.int64)


def test_transposed_and_sliced_operands():
    a = _data((9, 8), np.float64, 3)
    b = _data((8, 11), np.float64, 4)
    ha, hb = hp.array(a), hp.array(b)
    _check(ha.T @ ha, a.T @ a, np.float64)
    _check(ha[::2, 1:] @ hb[1::1, ::-2], a[::2, 1:] @ b[1::1, ::-2], np.float64)
    _check(ha[1] @ hb, a[1] @ b, np.float64)


def test_matmul_out_and_inplace():
    a, b = _data((5, 5), np.float64, 5), _data((5, 5), np.float64, 6)
    ha, hb = hp.array(a), hp.array(b)
    out = hp.zeros((5, 5))
    r = hp.matmul(ha, hb, out=out)
    assert r is out
    _check(out, a @ b, np.float64)
    ha @= hb
    a @= b
    _check(ha, a, np.float64)
    d = hp.zeros((5, 5))
    assert hp.dot(hp.array(a), hb, out=d) is d
    _check(d, np.dot(a, b), np.float64)


@pytest.mark.parametrize("sa,sb", [((3, 4), (3, 4)), ((4,), (5,)), ((2, 3, 4), (3, 4, 5)),
                                   ((), (3,)), ((3,), ())])
def test_matmul_errors(sa, sb):
    a, b = np.ones(sa), np.ones(sb)
    with pytest.raises(ValueError) as exp:
        np.matmul(a, b)
    with pytest.raises(ValueError) as got:
        hp.matmul(hp.array(a), hp.array(b))
    assert str(got.value) == str(exp.value)


@pytest.mark.parametrize("fn", ["dot", "inner", "vdot"])
def test_product_errors(fn):
    a, b = np.ones((2, 3)), np.ones((4, 2))
    with pytest.raises(ValueError) as exp:
        getattr(np, fn)(a, b)
    with pytest.raises(ValueError) as got:
        getattr(hp, fn)(hp.array(a), hp.array(b))
    assert str(got.value) == str(exp.value)


def test_matmul_error_message_exact():
    with pytest.raises(ValueError, match="size 3 is different from 4"):
        hp.ones((3, 4)) @ hp.ones((3, 4))


@given(st.integers(1, 7), st.integers(1, 7), st.sampled_from(DTYPES), st.integers(0, 999))
def test_vdot_inner_outer(n, m, dt, seed):
    a, b = _data((n, m), dt, seed), _data((n, m), dt, seed + 1)
    ha, hb = hp.array(a), hp.array(b)
    _check(hp.vdot(ha, hb), np.vdot(a, b), dt)
    _check(hp.inner(ha, hb), np.inner(a, b), dt)
    _check(hp.inner(ha[0], hb[0]), np.inner(a[0], b[0]), dt)
    _check(hp.outer(ha[0], hb[:, 0]), np.outer(a[0], b[:, 0]), dt)


@pytest.mark.parametrize("sa,sb,axes", [
    ((3, 4, 5), (4, 5, 2), 2), ((3, 4, 5), (4, 3, 2), ([0, 1], [1, 0])),
    ((3, 4), (4, 3), 0), ((6,), (6,), 1), ((2, 3, 4), (4, 3), ([-1], [0])),
])
def test_tensordot(sa, sb, axes):
    a, b = _data(sa, np.float64, 7), _data(sb, np.float64, 8)
    _check(hp.tensordot(hp.array(a), hp.array(b), axes), np.tensordot(a, b, axes), np.float64)


def test_tensordot_error():
    with pytest.raises(ValueError, match="shape-mismatch for sum"):
        hp.tensordot(hp.ones((3, 4)), hp.ones((5, 6)), 1)


EINSUMS = [
    ("ij,jk->ik", [(4, 5), (5, 3)]), ("ij,jk", [(4, 5), (5, 3)]), ("i,i", [(6,), (6,)]),
    ("i,j->ij", [(3,), (4,)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(5, 5)]), ("ii", [(5, 5)]), ("ij->ji", [(3, 6)]), ("...ij,...jk", [(2, 3, 4),
                                                                               (4, 5)]),
    ("ij,ij->i", [(4, 5), (4, 5)]), ("ijk,jl,k->il", [(3, 4, 5), (4, 2), (5,)]),
    ("ij,jk->ik", [(4, 1), (3, 5)]), ("i...->...", [(3, 4, 2)]),
]


@pytest.mark.parametrize("subs,shapes", EINSUMS)
@pytest.mark.parametrize("dt", [np.float64, np.int64, np.complex128])
def test_einsum(subs, shapes, dt):
    arrays = [_data(s, dt, i) for i, s in enumerate(shapes)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", hp.FallbackWarning)
        got = hp.einsum(subs, *[hp.array(x) for x in arrays])
    _check(got, np.einsum(subs, *arrays), dt)


def test_einsum_sublist_and_errors():
    a, b = _data((3, 4), np.float64, 1), _data((4, 2), np.float64, 2)
    _check(hp.einsum(hp.array(a), [0, 1], hp.array(b), [1, 2], [0, 2]),
           np.einsum(a, [0, 1], b, [1, 2], [0, 2]), np.float64)
    with pytest.raises(ValueError) as exp:
        np.einsum("ij,jk->ik", a, a)
    with pytest.raises(ValueError) as got:
        hp.einsum("ij,jk->ik", hp.array(a), hp.array(a))
    assert str(got.value) == str(exp.value)


@given(st.integers(1, 6), st.integers(1, 6), st.integers(-3, 3),
       st.sampled_from([np.int32, np.float64, np.complex128]))
def test_trace(n, m, offset, dt):
    a = _data((n, m), dt, n * m)
    _check(hp.trace(hp.array(a), offset), np.trace(a, offset), dt)
    _check(hp.array(a).trace(offset), a.trace(offset), dt)
    b = _data((2, n, m), dt, 5)
    _check(hp.trace(hp.array(b), offset, 1, 2), np.trace(b, offset, 1, 2), dt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        _check(hp.trace(hp.array(a), dtype=np.float32), np.trace(a, dtype=np.float32),
               np.float32)


VEC_ORDS = [None, 1, 2, np.inf, -np.inf, 0, 3, -1, 0.5]
MAT_ORDS = [None, "fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"]


@pytest.mark.parametrize("ord", VEC_ORDS)
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128, np.int64])
def test_vector_norm(ord, dt):
    x = _data((11,), dt, 3)
    dt = dt if np.dtype(dt).kind in "fc" else np.float64
    _check(hp.linalg.norm(hp.array(x), ord), np.linalg.norm(x, ord), dt)
    m = _data((4, 7), dt, 4)
    for axis in (0, 1, -1):
        for kd in (False, True):
            _check(hp.linalg.norm(hp.array(m), ord, axis, kd), np.linalg.norm(m, ord, axis, kd),
                   dt)


@pytest.mark.parametrize("ord", MAT_ORDS)
@pytest.mark.parametrize("dt", [np.float64, np.complex128, np.int32])
def test_matrix_norm(ord, dt):
    m = _data((5, 7), dt, 6)
    dt = np.float64
    _check(hp.linalg.norm(hp.array(m), ord), np.linalg.norm(m, ord), np.float64)
    b = _data((3, 4, 5), dt, 7)
    for axis in ((1, 2), (2, 0)):
        for kd in (False, True):
            _check(hp.linalg.norm(hp.array(b), ord, axis, kd), np.linalg.norm(b, ord, axis, kd),
                   np.float64)


def test_norm_keepdims_and_errors():
    m = _data((4, 6), np.float64, 1)
    _check(hp.linalg.norm(hp.array(m), keepdims=True), np.linalg.norm(m, keepdims=True),
           np.float64)
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        hp.linalg.norm(hp.ones(3), "fro", axis=0)
    with pytest.raises(ValueError, match="Invalid norm order for matrices."):
        hp.linalg.norm(hp.ones((3, 3)), 3)
    with pytest.raises(ValueError, match="Improper number of dimensions to norm."):
        hp.linalg.norm(hp.ones((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="Duplicate axes given."):
        hp.linalg.norm(hp.ones((2, 2)), axis=(0, -2))


def _spd(n, seed):
    a = _data((n, n), np.float64, seed)
    return a @ a.T + n * np.eye(n)


def test_gathered_solvers_no_fallback_warning():
    a, b = _spd(6, 1), _data((6, 2), np.float64, 2)
    ha, hb = hp.array(a), hp.array(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hp.FallbackWarning)
        _check(hp.linalg.solve(ha, hb), np.linalg.solve(a, b), np.float64)
        _check(hp.linalg.inv(ha), np.linalg.inv(a), np.float64)
        _check(hp.linalg.det(ha), np.linalg.det(a), np.float64)
        _check(hp.linalg.cholesky(ha), np.linalg.cholesky(a), np.float64)
        w, v = hp.linalg.eigh(ha)
        ew, ev = np.linalg.eigh(a)
        _check(w, ew, np.float64)
        assert is_array(v)
        q, r = hp.linalg.qr(ha)
        _check(q @ r, a, np.float64)
        u, s, vt = hp.linalg.svd(ha)
        _check(s, np.linalg.svd(a)[1], np.float64)
        x, res, rank, sv = hp.linalg.lstsq(ha, hb, rcond=None)
        _check(x, np.linalg.lstsq(a, b, rcond=None)[0], np.float64)
        assert rank == 6
        _check(hp.linalg.matrix_power(ha, 3), np.linalg.matrix_power(a, 3), np.float64)
        _check(hp.linalg.multi_dot([ha, ha, hb]), np.linalg.multi_dot([a, a, b]), np.float64)
    with pytest.raises(np.linalg.LinAlgError):
        hp.linalg.inv(hp.zeros((3, 3)))


def test_large_tiled_matmul_split_k():
    # Enough elements to be partitioned even outside test mode; skinny output -> split k.
    a = _data((3, 600), np.float64, 1)
    b = _data((600, 2), np.float64, 2)
    _check(hp.array(a) @ hp.array(b), a @ b, np.float64)
    x = _data((1000,), np.float64, 3)
    _check(hp.dot(hp.array(x), hp.array(x)), np.dot(x, x), np.float64)


def test_deferred_chain():
    # matmul reads the result of pending tasks and later writes wait for it (WAR).
    a = hp.ones((6, 6))
    b = a * 2.0
    c = b @ a
    b[...] = 0.0
    _check(c, np.full((6, 6), 12.0), np.float64)
