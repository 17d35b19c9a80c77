# ruff: noqa: B023  (every lambda/closure here is called at once, inside its loop)
"""The ndarray object against NumPy's: attributes, conversions, printing, copying,
casting, filling and pickling."""

from __future__ import annotations

import copy
import gc
import operator
import pickle
import warnings

import numpy as np
import pytest
from compare import DTYPE_NAMES, assert_same

import hpcarray as hp

DTYPES = DTYPE_NAMES
SHAPES = [(), (0,), (1,), (5,), (3, 4), (2, 0, 3), (2, 3, 4), (1, 1)]


def data(dtype, shape):
    x = (np.arange(int(np.prod(shape))) % 7 - 3).reshape(shape)
    if np.dtype(dtype).kind == "c":
        return np.asarray(x + 0.5j * x).astype(dtype)
    if np.dtype(dtype).kind == "f":
        return np.asarray(x * 0.5).astype(dtype)
    if np.dtype(dtype).kind == "u":
        return np.asarray(np.abs(x)).astype(dtype)
    return x.astype(dtype)


def both_raise_same(fn, x, h, message=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = fn(x)
        except Exception as exc:  # noqa: BLE001
            with pytest.raises(type(exc)) as info:
                fn(h)
            if message:
                assert str(info.value) == str(exc)
            return None
        got = fn(h)
    return got, expected


def test_attributes():
    for dtype in DTYPES:
        for shape in SHAPES:
            x = data(dtype, shape)
            h = hp.array(x)
            assert h.shape == x.shape and isinstance(h.shape, tuple)
            assert h.dtype == x.dtype
            assert h.ndim == x.ndim
            assert h.size == x.size and type(h.size) is int
            assert h.itemsize == x.itemsize
            assert h.nbytes == x.nbytes
            assert_same(h.T, x.T)
            assert_same(h.real, x.real)
            if x.dtype.kind == "c":
                assert_same(h.imag, x.imag)
            if x.ndim:
                assert len(h) == len(x)
            else:
                both_raise_same(len, x, h)


def test_imag_of_real_array():
    for dtype in ("int8", "float32", "bool"):
        x = data(dtype, (3, 4))
        h = hp.array(x)
        assert_same(h.imag, x.imag)
        assert_same(h.imag + 1, x.imag + 1)


@pytest.mark.parametrize("shape", [(13,), (9, 5), (4, 3, 2)])
@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_real_and_imag_read_and_write_their_array(dtype, shape):
    """Across ranks these keep the array's tiles (store.PartBlock): the parts and the
    array see each other's writes, halos included."""
    x = data(dtype, shape) + np.asarray(1j, dtype)
    h = hp.array(x)
    for a in (h, x):
        a.real[1:] += a.imag[:-1]
        a.imag[...] = 0
        a += a.real * np.asarray(2j, dtype)  # the array's own write, seen by its parts
        a.imag[::2] -= a.real[::-1][::2]
        a[1:].real *= 3
    assert_same(h, x)
    for part in (lambda a: a.real, lambda a: a.imag, lambda a: a[1:].imag.T):
        got, want = part(h), part(x)
        assert_same(got, want)
        assert (got.strides, got.flags.c_contiguous) == (want.strides, want.flags.c_contiguous)
    assert_same(h.real.sum(), x.real.sum())
    assert_same(h.imag.max(axis=0), x.imag.max(axis=0))


@pytest.mark.parametrize("dtype,other", [("float64", "int64"), ("int64", "float64"),
                                         ("float32", "int32"), ("complex64", "float64")])
def test_views_as_a_dtype_of_the_same_itemsize_read_and_write_their_array(dtype, other):
    x = np.abs(data(dtype, (9, 4))) + np.asarray(1, dtype)
    h = hp.array(x)
    for a in (h, x):
        v = a.view(other)
        v[1:] = v[:-1]
        a[::3] = a[1::3]  # the array's own write, seen through its view
        v[-1] = v[0]
    assert_same(h, x)
    assert_same(h.view(other), x.view(other))
    assert_same(h.view(other).view(dtype)[2:], x.view(other).view(dtype)[2:])
    got, want = h.T.view(other), x.T.view(other)
    assert (got.strides, got.flags.writeable, got.shape) == (want.strides, True, want.shape)


def test_flags_outlive_their_array():
    """A temporary's flags, read after it is gone (across ranks its data is a block that
    knows its store only weakly)."""
    flags = hp.ones((40, 30), dtype=complex).real.flags
    gc.collect()
    want = np.ones((40, 30), dtype=complex).real.flags
    assert (flags.c_contiguous, flags.f_contiguous, flags.writeable) == \
        (want.c_contiguous, want.f_contiguous, want.writeable)


def test_views_attributes():
    x = np.arange(24.0).reshape(2, 3, 4)
    h = hp.array(x)
    for view in (lambda a: a[:, 1], lambda a: a.T, lambda a: a[::-1, ::2],
                 lambda a: a[None, ..., 1], lambda a: a.transpose(1, 0, 2)):
        assert_same(view(h), view(x))
        assert view(h).shape == view(x).shape
        assert view(h).size == view(x).size


def test_flat_iteration_and_iter():
    for dtype in ("int8", "float64", "complex64", "bool"):
        for shape in [(5,), (3, 4), (2, 3, 2)]:
            x = data(dtype, shape)
            h = hp.array(x)
            assert [type(v) for v in h.flat] == [type(v) for v in x.flat]
            assert list(h.flat) == list(x.flat)
            items = list(h)
            assert len(items) == len(list(x))
            for g, e in zip(items, x):
                assert_same(g, e)
    both_raise_same(iter, np.array(1.0), hp.array(1.0))
    h = hp.arange(6).reshape(2, 3).T
    assert list(h.flat) == list(np.arange(6).reshape(2, 3).T.flat)


@pytest.mark.parametrize("dtype", DTYPES)
def test_repr_and_str(dtype):
    for shape in SHAPES + [(20, 30), (1001,)]:
        x = data(dtype, shape)
        h = hp.array(x)
        assert repr(h) == repr(x)
        assert str(h) == str(x)
        assert repr(h[..., ::2]) == repr(x[..., ::2]) if x.ndim else True
    x = np.array([1.123456789, np.nan, -np.inf])
    assert repr(hp.array(x)) == repr(x)
    assert f"{hp.asarray(2.5):.3f}" == f"{np.asarray(2.5):.3f}"


def test_array_protocol():
    x = data("float32", (3, 4))
    h = hp.array(x)
    a = np.asarray(h)
    assert type(a) is np.ndarray
    assert_same(hp.asarray(a), x)
    assert np.array(h, dtype=np.float64).dtype == np.float64
    c = np.array(h, copy=True)
    c[0, 0] = 100
    assert float(h[0, 0]) != 100
    assert h.__array__().dtype == np.float32


def _check_conversion(conv, shapes, dtypes=DTYPES, message=False):
    for dtype in dtypes:
        for shape in shapes:
            x = data(dtype, shape)
            if x.size:
                x = np.asarray(x + np.ones(1, dtype)[0])  # nonzero values; 0-d stays an array
            h = hp.array(x)
            res = both_raise_same(conv, x, h, message)
            if res is not None:
                got, expected = res
                assert type(got) is type(expected)
                assert got == expected or (got != got and expected != expected)


@pytest.mark.parametrize("conv", [int, float, complex, bool, operator.index],
                         ids=lambda f: f.__name__)
def test_scalar_conversions(conv):
    _check_conversion(conv, [(), (2,), (2, 2)],
                      [d for d in DTYPES if not (conv is operator.index and d == "bool")])


@pytest.mark.parametrize("conv", [int, float, complex, bool], ids=lambda f: f.__name__)
def test_scalar_conversions_of_size_one_and_empty_arrays(conv):
    _check_conversion(conv, [(1,), (1, 1), (0,), (2,)], ["int64", "float64"], message=True)


def test_index_of_bool_array_raises():
    with pytest.raises(TypeError, match="only integer scalar arrays"):
        operator.index(hp.asarray(True))


def test_fill_with_sequence_raises():
    with pytest.raises(ValueError):
        hp.zeros(3).fill([1, 2, 3])


def test_index_usage():
    h = hp.asarray(2)
    assert [10, 20, 30][h] == 30
    assert range(10)[hp.asarray(np.int8(3))] == 3
    with pytest.raises(TypeError):
        [1, 2][hp.asarray(1.0)]


def test_item_tolist():
    for dtype in DTYPES:
        for shape in SHAPES:
            x = data(dtype, shape)
            h = hp.array(x)
            assert h.tolist() == x.tolist()
            assert type(h.tolist()) is type(x.tolist())
            res = both_raise_same(lambda a: a.item(), x, h)
            if res is not None:
                assert res[0] == res[1] and type(res[0]) is type(res[1])
            if x.size > 2:
                for args in ((0,), (-1,), (x.size - 1,), (x.size,)):
                    res = both_raise_same(lambda a: a.item(*args), x, h)
                    if res is not None:
                        assert res[0] == res[1]
            if x.ndim == 2 and x.size:
                res = both_raise_same(lambda a: a.item(1, 2), x, h)
                if res is not None:
                    assert res[0] == res[1]


def test_copy_and_deepcopy():
    x = data("float64", (3, 4))
    h = hp.array(x)
    for c in (h.copy(), copy.copy(h), copy.deepcopy(h), h[::2].copy(), h.T.copy()):
        assert isinstance(c, hp.ndarray)
    c = h.copy()
    c[0, 0] = 42
    assert float(h[0, 0]) == x[0, 0]
    assert_same(h.T.copy(), x.T.copy())
    assert_same(h[1:, ::-2].copy(), x[1:, ::-2].copy())
    assert_same(h.copy(order="C"), x.copy(order="C"))


@pytest.mark.parametrize("casting", ["no", "equiv", "safe", "same_kind", "unsafe"])
def test_astype(casting):
    for src in DTYPES:
        x = data(src, (3, 4))
        h = hp.array(x)
        for dst in DTYPES:
            res = both_raise_same(lambda a: a.astype(dst, casting=casting), x, h)
            if res is not None:
                assert_same(*res)
    x = data("float64", (3,))
    h = hp.array(x)
    assert h.astype(np.float64, copy=False) is h
    assert h.astype(np.float32, copy=False) is not h
    c = h.astype(np.float64)
    assert c is not h
    c[0] = 99
    assert float(h[0]) == x[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hp.FallbackWarning)
        o = h.astype(object)  # a dtype hpcarray does not hold: NumPy's own array
    assert type(o) is np.ndarray and o.dtype == object and o.tolist() == x.tolist()
    assert_same(h[::-1].astype(int), x[::-1].astype(int))
    assert_same(hp.asarray(np.array([np.nan, np.inf, 1e300])).astype(np.float16),
                np.array([np.nan, np.inf, 1e300]).astype(np.float16))


def test_fill():
    for dtype in DTYPES:
        for value in (0, 1, -1, 2.5, True, 1 + 1j, np.float32(7), 300):
            x = data(dtype, (3, 4))
            h = hp.array(x)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    x.fill(value)
                except Exception as exc:  # noqa: BLE001
                    with pytest.raises(type(exc)):
                        h.fill(value)
                    continue
                h.fill(value)
            assert_same(h, x)
    x = np.zeros((4, 5))
    h = hp.array(x)
    h[1:3].fill(7.0)
    x[1:3].fill(7.0)
    assert_same(h, x)
    h.T[::2].fill(-1)
    x.T[::2].fill(-1)
    assert_same(h, x)


def test_pickle_round_trip():
    for dtype in DTYPES:
        for shape in SHAPES:
            x = data(dtype, shape)
            h = hp.array(x)
            for proto in (2, pickle.HIGHEST_PROTOCOL):
                r = pickle.loads(pickle.dumps(h, protocol=proto))
                assert isinstance(r, hp.ndarray)
                assert_same(r, x)
    h = hp.arange(10.0)[::3]
    assert_same(pickle.loads(pickle.dumps(h)), np.arange(10.0)[::3])
    # Pickling waits for pending writes.
    h = hp.zeros((50, 50))
    h += 1
    assert_same(pickle.loads(pickle.dumps(h)), np.ones((50, 50)))


def test_bool_and_truth_errors():
    for shape in [(), (1,), (2,), (1, 1)]:
        x = np.ones(shape)
        h = hp.array(x)
        both_raise_same(bool, x, h)
    h = hp.arange(3)
    with pytest.raises(ValueError, match="ambiguous"):
        if h:
            pass
    with pytest.raises(ValueError, match="ambiguous"):
        assert h and h


def test_hash_contains_and_misc():
    h = hp.arange(5)
    with pytest.raises(TypeError):
        hash(h)
    assert 3 in h
    assert 7 not in h
    assert (2.0 in hp.arange(3.0)) == (2.0 in np.arange(3.0))
    assert hp.ndarray((2, 3)).shape == (2, 3)
    assert isinstance(hp.ndarray((2,), dtype=np.int8), hp.ndarray)
    assert hp.zeros(3).__class__.__name__ == "ndarray"


def test_every_ndarray_method_numpy_has_but_in_place_resizing():
    """Methods taken from hpcarray's functions (partition sorts in place), setflags that
    writes then honour, to_device, and NumPy's own for byte-level output."""
    missing = {n for n in dir(np.ndarray) if not n.startswith("_")
               and not hasattr(hp.ndarray, n)}
    assert missing <= {"ctypes", "data", "getfield", "setfield", "resize"}, missing
    x = np.array([[5.0, 1.0, 4.0, 2.0], [0.5, 3.0, -1.0, 7.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hp.FallbackWarning)
        h = hp.array(x)
        assert_same(h.compress([True, False, True, True], axis=1),
                    x.compress([True, False, True, True], axis=1))
        assert_same(hp.array([1, 0, 1]).choose([[1, 2, 3], [4, 5, 6]]),
                    np.array([1, 0, 1]).choose([[1, 2, 3], [4, 5, 6]]))
        assert_same(hp.arange(10).searchsorted([3, 3.5], side="right"),
                    np.arange(10).searchsorted([3, 3.5], side="right"))
        assert_same(h.argpartition(1, axis=1)[:, :2].max(), x.argpartition(1, axis=1)[:, :2].max())
        p, q = h.copy(), x.copy()
        assert p.partition(2, axis=1) is None
        q.partition(2, axis=1)
        assert_same(p[:, 2], q[:, 2])
        assert_same(h.byteswap(), x.byteswap())
        assert h.dumps() == x.dumps() and h.tobytes() == x.tobytes()
    assert h.to_device("cpu") is h
    with pytest.raises(ValueError):
        h.to_device("cuda")
    r = hp.array(x)
    r.setflags(write=False)
    assert not r.flags.writeable
    for write in (lambda: r.__setitem__(0, 1.0), lambda: np.add(r, 1, out=r)):
        with pytest.raises(ValueError, match="read-only"):
            write()


def test_assigning_strings_and_objects_converts_as_numpy():
    for value in ("1.5", ["1", "2", "3", "4"], np.array(["7"]), b"2"):
        x, h = np.zeros((2, 4)), hp.zeros((2, 4))
        x[0] = value
        h[0] = value
        assert_same(h, x)
    for value in ("abc", ["a"] * 4):
        with pytest.raises(ValueError) as e_np:
            np.zeros((2, 4))[0] = value
        with pytest.raises(ValueError) as e_hp:
            hp.zeros((2, 4))[0] = value
        assert str(e_hp.value) == str(e_np.value)


def _read_only(a):
    a.flags.writeable = False
    return a


# Every way to write into an array: (name, write(xp, read_only_array, data)).
WRITES = [
    ("setitem", lambda m, r, x: r.__setitem__(0, 1)),
    ("setitem mask", lambda m, r, x: r.__setitem__(x > 2, 1)),
    ("fill", lambda m, r, x: r.fill(1)),
    ("iadd", lambda m, r, x: r.__iadd__(1)),
    ("real", lambda m, r, x: setattr(r, "real", 1)),
    ("ufunc out", lambda m, r, x: m.negative(x, out=r)),
    ("two outs", lambda m, r, x: m.divmod(x, 2, out=(r, m.zeros(6)))),
    ("copyto", lambda m, r, x: m.copyto(r, 1)),
    ("clip out", lambda m, r, x: m.clip(x, 1, 2, out=r)),
    ("round out", lambda m, r, x: m.round(x, out=r)),
    ("sum out", lambda m, r, x: m.sum(x.reshape(2, 3), axis=0, out=r[:3])),
    ("mean out", lambda m, r, x: m.mean(x.reshape(2, 3), axis=0, out=r[:3])),
    ("std out", lambda m, r, x: m.std(x.reshape(2, 3), axis=0, out=r[:3])),
    ("median out", lambda m, r, x: m.median(x.reshape(2, 3), axis=0, out=r[:3])),
    ("cumsum out", lambda m, r, x: m.cumsum(x, out=r)),
    ("accumulate out", lambda m, r, x: m.add.accumulate(x, out=r)),
    ("argmax out", lambda m, r, x: m.argmax(x.reshape(2, 3), axis=0,
                                            out=_read_only(m.zeros(3, np.intp)))),
    ("matmul out", lambda m, r, x: m.matmul(x.reshape(2, 3), x.reshape(3, 2),
                                            out=r[:4].reshape(2, 2))),
    ("dot out", lambda m, r, x: m.dot(x.reshape(2, 3), x.reshape(3, 2),
                                      out=r[:4].reshape(2, 2))),
    ("vecdot out", lambda m, r, x: m.vecdot(x.reshape(2, 3), x.reshape(2, 3), out=r[:2])),
    ("einsum out", lambda m, r, x: m.einsum("ij->j", x.reshape(2, 3), out=r[:3])),
    ("choose out", lambda m, r, x: m.choose(m.array([0, 1, 0, 1, 0, 1]), [x, x], out=r)),
    ("take out", lambda m, r, x: m.take(x, [0, 1, 2, 3, 4, 5], out=r)),
    ("put", lambda m, r, x: r.put([0], 1)),
    ("putmask", lambda m, r, x: m.putmask(r, x > 2, 1)),
    ("place", lambda m, r, x: m.place(r, x > 2, [1])),
    ("put_along_axis", lambda m, r, x: m.put_along_axis(r, m.array([0]), 1.0, 0)),
    ("fill_diagonal", lambda m, r, x: m.fill_diagonal(r.reshape(2, 3), 1)),
    ("flat int", lambda m, r, x: r.flat.__setitem__(0, 1)),
    ("flat array", lambda m, r, x: r.flat.__setitem__([0, 2], 1)),
    ("sort", lambda m, r, x: r.sort()),
    ("partition", lambda m, r, x: r.partition(1)),
    ("shuffle", lambda m, r, x: m.random.shuffle(r)),
    ("a view", lambda m, r, x: r.reshape(2, 3)[1:, ::2].__setitem__(0, 1)),
    ("a transpose", lambda m, r, x: r.reshape(2, 3).T.__setitem__(0, 1)),
    ("a broadcast", lambda m, r, x: m.broadcast_to(x[:1], (4,)).__setitem__(0, 1)),
]


@pytest.mark.parametrize("write", [w for _, w in WRITES], ids=[n for n, _ in WRITES])
def test_writes_into_read_only_arrays_raise_numpys_error(write):
    """NumPy's ValueError and message, on host data (NumPy's own flag) and on device data
    (no flag there: the one the front end keeps)."""
    def attempt(m):
        x = m.arange(6.0)
        r = m.arange(6.0)
        r.flags.writeable = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (fallbacks: median)
            try:
                write(m, r, x)
                hp.sync()
            except ValueError as err:
                return str(err), np.asarray(r).tolist()
        return None, np.asarray(r).tolist()

    assert attempt(hp) == attempt(np)
    assert attempt(np)[0] is not None
