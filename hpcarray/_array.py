"""The hpcarray ndarray: a view (`_v`) of a store, plus its NumPy view of the local buffer.

Methods stay thin: they call the API functions, which own the logic.
"""

from __future__ import annotations

import operator

import numpy as np

from hpcarray._api import indexing, manipulation, reductions, ufuncs
from hpcarray._api.convert import (
    DeviceFlags,
    from_numpy,
    require_writeable,
    set_writeable,
    stand_in,
    to_numpy,
    writeable,
)
from hpcarray._dtypes import SUPPORTED_SET, UnsupportedDtype

# NumPy's `a ** e` calls another ufunc for these exact Python numbers (its
# fast_scalar_power): square for `** 2` (bool ** 2 is int8), and for float and complex
# arrays reciprocal for `** -1` and sqrt for `** 0.5`, which differ from power at complex
# special values and for float16.
_INEXACT_POWERS = {(int, -1): np.reciprocal, (float, 0.5): np.sqrt}


def _scalar_power(a, exponent):
    t = type(exponent)
    if t is int and exponent == 2:
        return np.square
    if (t is int or t is float) and a.dtype.kind in "fc":
        return _INEXACT_POWERS.get((t, exponent))
    return None


def _binary(uf, name: str):
    fast = ufuncs.fast_binary  # (every operator's ufunc has one output)
    power = uf is np.power

    def op(self, other):
        try:
            if power and (f := _scalar_power(self, other)) is not None:
                return ufuncs.apply(f, self)
            res = fast(uf, self, other, False)
            return res if res is not None else ufuncs.apply(uf, self, other)
        except TypeError:
            if not _is_operand(other):
                return _as_numpy_does(f"__{name}__", self, other)
            raise

    def rop(self, other):
        try:
            res = fast(uf, self, other, True)
            return res if res is not None else ufuncs.apply(uf, other, self)
        except TypeError:
            if not _is_operand(other):
                return _as_numpy_does(f"__r{name}__", self, other)
            raise

    def iop(self, other):
        if power and (f := _scalar_power(self, other)) is not None:
            return ufuncs.apply(f, self, out=self)
        return ufuncs.apply(uf, self, other, out=self)

    return op, rop, iop


def _as_numpy_does(method: str, a, other):
    """An operator whose other operand hpcarray does not take (None, a string, any other
    object): NumPy's own ndarray operator on a's values gives the answer (`a == None` is
    all False, `a != "x"` all True), NumPy's error, or NotImplemented where NumPy defers."""
    res = getattr(np.ndarray, method)(to_numpy(a), other)
    if isinstance(res, np.ndarray) and res.dtype in SUPPORTED_SET:
        return from_numpy(res, copy=False)
    return res


def _through_numpy(a, method: str):
    """NumPy's method on a's gathered values (results as hpcarray arrays), warned once."""
    from hpcarray._fallback import fallback_function

    return fallback_function(getattr(to_numpy(a), method), f"ndarray.{method}")


def _is_operand(x) -> bool:
    import numbers

    if isinstance(x, (np.ndarray, np.generic)):  # not strings, datetimes: NumPy's operator
        return x.dtype in SUPPORTED_SET
    return isinstance(x, (ndarray, numbers.Number, list, tuple))


def _to_python(a: ndarray, convert):
    """int()/float()/bool()/... as NumPy does it: conversions NumPy refuses for this shape
    are refused the same way (on a zero-stride stand-in, without gathering any data)."""
    if a.size == 1:
        return convert(to_numpy(a))
    return convert(stand_in(a.dtype, a.shape))


class ndarray:
    """An N-dimensional array whose data lives in tiles and is computed by tasks."""

    # _ro: read-only, for device data (it has no writeable flag: convert.writeable)
    __slots__ = ("_v", "_np", "_ro", "__weakref__")
    __array_priority__ = 100.0
    __hash__ = None  # type: ignore[assignment]

    def __new__(cls, shape, dtype=float, buffer=None, offset=0, strides=None, order=None):
        from hpcarray._api.convert import from_numpy

        return from_numpy(np.ndarray(shape, dtype, buffer, offset, strides, order), copy=True)

    # -- attributes -------------------------------------------------------------------

    def __getattr__(self, name: str):
        # Only reached for an unset slot: a small result of the fast path gets its store
        # and view on first use (ufuncs._adopt), so a chain of small operations never
        # builds them.
        if name == "_v":
            from hpcarray._api.convert import whole_view

            self._v = view = whole_view(self._np)
            return view
        if name == "_ro":  # (set only where device data is read-only)
            return False
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'",
                             name=name, obj=self)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._np.shape

    @shape.setter
    def shape(self, value) -> None:
        new = self.reshape(value)
        if new._v.store.accesses is not self._v.store.accesses:
            raise AttributeError("Incompatible shape for in-place modification. Use "
                                 "`.reshape()` to make a copy with the desired shape.")
        self._v, self._np = new._v, new._np

    @property
    def dtype(self) -> np.dtype:
        return self._np.dtype

    @property
    def ndim(self) -> int:
        return self._np.ndim

    @property
    def size(self) -> int:
        return self._np.size

    @property
    def itemsize(self) -> int:
        return self._np.itemsize

    @property
    def nbytes(self) -> int:
        return self._np.nbytes

    @property
    def strides(self) -> tuple[int, ...]:
        return self._np.strides

    @property
    def flags(self):
        flags = self._np.flags
        return flags if hasattr(flags, "writeable") else DeviceFlags(self)

    @property
    def base(self):
        return None if self._v.is_whole and not self._v.store.is_alias else True

    @property
    def T(self) -> ndarray:
        return self.transpose()

    @property
    def mT(self) -> ndarray:
        if self.ndim < 2:
            raise ValueError("matrix transpose with ndim < 2 is undefined")
        return manipulation.swapaxes(self, -1, -2)

    @property
    def real(self) -> ndarray:
        return manipulation.real(self)

    @real.setter
    def real(self, value) -> None:
        manipulation.assign(manipulation.real(self), value)

    @property
    def imag(self) -> ndarray:
        return manipulation.imag(self)

    @imag.setter
    def imag(self, value) -> None:
        manipulation.assign(manipulation.imag(self), value)

    @property
    def flat(self):
        return indexing.FlatIter(self)

    @property
    def device(self) -> str:
        return "cpu"

    # -- conversion -------------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        arr = to_numpy(self)
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __array_ufunc__(self, uf, method, *inputs, **kwargs):
        from hpcarray._fallback import array_ufunc

        return array_ufunc(uf, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from hpcarray._fallback import array_function

        return array_function(func, args, kwargs)

    def __len__(self) -> int:
        if not self._v.shape:
            raise TypeError("len() of unsized object")
        return self._v.shape[0]

    def __iter__(self):
        if not self._v.shape:
            raise TypeError("iteration over a 0-d array")
        if self.ndim == 1:
            return iter(to_numpy(self).copy())
        return (self[i] for i in range(self._v.shape[0]))

    def __bool__(self) -> bool:
        return _to_python(self, bool)

    def __int__(self) -> int:
        return _to_python(self, int)

    def __float__(self) -> float:
        return _to_python(self, float)

    def __complex__(self) -> complex:
        return _to_python(self, complex)

    def __index__(self) -> int:
        return _to_python(self, operator.index)

    def __repr__(self) -> str:
        return repr(to_numpy(self))

    def __str__(self) -> str:
        return str(to_numpy(self))

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(to_numpy(self)[()], spec)
        return format(to_numpy(self), spec)

    def __reduce__(self):
        from hpcarray._api.convert import from_numpy

        return (from_numpy, (to_numpy(self).copy(),))

    def __copy__(self) -> ndarray:
        return self.copy()

    def __deepcopy__(self, memo) -> ndarray:
        return self.copy()

    def __contains__(self, value) -> bool:
        return bool((self == value).any())

    def item(self, *args):
        return to_numpy(self).item(*args)

    def tolist(self):
        return to_numpy(self).tolist()

    def tobytes(self, order="C") -> bytes:
        return to_numpy(self).tobytes(order)

    def copy(self, order="C") -> ndarray:
        return manipulation.copy(self)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True) -> ndarray:
        try:
            return manipulation.astype(self, dtype, casting=casting, copy=copy)
        except UnsupportedDtype:  # to strings, datetimes, objects: NumPy's own array
            return _through_numpy(self, "astype")(dtype, order, casting, subok, copy)

    def fill(self, value) -> None:
        scalar = np.empty((), self.dtype)
        scalar[()] = value.item() if hasattr(value, "_v") else value  # NumPy's checks
        manipulation.assign(self, scalar[()])

    def view(self, dtype=None, type=None):
        return manipulation.view(self, dtype, type)

    def __getitem__(self, key):
        return indexing.getitem(self, key)

    def __setitem__(self, key, value) -> None:
        indexing.setitem(self, key, value)

    # -- operators ----------------------------------------------------------------------

    __add__, __radd__, __iadd__ = _binary(np.add, "add")
    __sub__, __rsub__, __isub__ = _binary(np.subtract, "sub")
    __mul__, __rmul__, __imul__ = _binary(np.multiply, "mul")
    __truediv__, __rtruediv__, __itruediv__ = _binary(np.true_divide, "truediv")
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(np.floor_divide, "floordiv")
    __mod__, __rmod__, __imod__ = _binary(np.remainder, "mod")
    __pow__, __rpow__, __ipow__ = _binary(np.power, "pow")
    __and__, __rand__, __iand__ = _binary(np.bitwise_and, "and")
    __or__, __ror__, __ior__ = _binary(np.bitwise_or, "or")
    __xor__, __rxor__, __ixor__ = _binary(np.bitwise_xor, "xor")
    __lshift__, __rlshift__, __ilshift__ = _binary(np.left_shift, "lshift")
    __rshift__, __rrshift__, __irshift__ = _binary(np.right_shift, "rshift")
    __lt__ = _binary(np.less, "lt")[0]
    __le__ = _binary(np.less_equal, "le")[0]
    __gt__ = _binary(np.greater, "gt")[0]
    __ge__ = _binary(np.greater_equal, "ge")[0]
    __eq__ = _binary(np.equal, "eq")[0]
    __ne__ = _binary(np.not_equal, "ne")[0]

    def __divmod__(self, other):
        return ufuncs.apply(np.divmod, self, other)

    def __rdivmod__(self, other):
        return ufuncs.apply(np.divmod, other, self)

    def __matmul__(self, other):
        from hpcarray._api import linalg

        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        from hpcarray._api import linalg

        return linalg.matmul(other, self)

    def __imatmul__(self, other):
        from hpcarray._api import linalg

        return linalg.matmul(self, other, out=self)

    def __neg__(self):
        return ufuncs.apply(np.negative, self)

    def __pos__(self):
        return ufuncs.apply(np.positive, self)

    def __abs__(self):
        return ufuncs.apply(np.absolute, self)

    def __invert__(self):
        return ufuncs.apply(np.invert, self)

    # -- reductions ---------------------------------------------------------------------

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
            where=True):
        temporary = reductions.only_here(self)
        return reductions.ufunc_reduce(np.add, self, axis, dtype, out, keepdims, initial,
                                       where, temporary)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
             where=True):
        temporary = reductions.only_here(self)
        return reductions.ufunc_reduce(np.multiply, self, axis, dtype, out, keepdims,
                                       initial, where, temporary)

    def max(self, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
        temporary = reductions.only_here(self)
        return reductions.ufunc_reduce(np.maximum, self, axis, None, out, keepdims, initial,
                                       where, temporary)

    def min(self, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
        temporary = reductions.only_here(self)
        return reductions.ufunc_reduce(np.minimum, self, axis, None, out, keepdims, initial,
                                       where, temporary)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
        return reductions.mean(self, axis, dtype, out, keepdims, where=where)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True):
        return reductions.var(self, axis, dtype, out, ddof, keepdims, where=where)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True):
        return reductions.std(self, axis, dtype, out, ddof, keepdims, where=where)

    def any(self, axis=None, out=None, keepdims=False, *, where=True):
        return reductions.any(self, axis, out, keepdims, where=where)

    def all(self, axis=None, out=None, keepdims=False, *, where=True):
        return reductions.all(self, axis, out, keepdims, where=where)

    def argmax(self, axis=None, out=None, *, keepdims=False):
        return reductions.argmax(self, axis, out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        return reductions.argmin(self, axis, out, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return reductions.cumsum(self, axis, dtype, out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return reductions.cumprod(self, axis, dtype, out)

    # -- shape manipulation -------------------------------------------------------------

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return manipulation.reshape(self, shape, order=order, copy=copy)

    def ravel(self, order="C"):
        return manipulation.ravel(self, order)

    def flatten(self, order="C"):
        return manipulation.copy(manipulation.ravel(self, order))

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return manipulation.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return manipulation.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return manipulation.squeeze(self, axis)

    def repeat(self, repeats, axis=None):
        return manipulation.repeat(self, repeats, axis)

    def clip(self, min=None, max=None, out=None, **kwargs):
        return manipulation.clip(self, min, max, out=out, **kwargs)

    def conj(self):
        return ufuncs.apply(np.conjugate, self)

    conjugate = conj

    def round(self, decimals=0, out=None):
        return ufuncs_round(self, decimals, out)

    def dot(self, b, out=None):
        from hpcarray._api import linalg

        return linalg.dot(self, b, out=out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        from hpcarray._api import linalg

        return linalg.trace(self, offset, axis1, axis2, dtype, out)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return manipulation.diagonal(self, offset, axis1, axis2)

    def nonzero(self):
        return indexing.nonzero(self)

    def sort(self, axis=-1, kind=None, order=None, *, stable=None) -> None:
        from hpcarray._api import sorting

        sorting.sort_in_place(self, axis, kind, order, stable=stable)

    def argsort(self, axis=-1, kind=None, order=None, *, stable=None):
        from hpcarray._api import sorting

        return sorting.argsort(self, axis, kind, order, stable=stable)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return indexing.take(self, indices, axis, out, mode)

    def put(self, indices, values, mode="raise") -> None:
        indexing.put(self, indices, values, mode)

    def compress(self, condition, axis=None, out=None):
        return indexing.compress(condition, self, axis, out)

    def choose(self, choices, out=None, mode="raise"):
        return indexing.choose(self, choices, out, mode)

    def searchsorted(self, v, side="left", sorter=None):
        import hpcarray

        return hpcarray.searchsorted(self, v, side, sorter)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        import hpcarray

        return hpcarray.argpartition(self, kth, axis, kind, order)

    def partition(self, kth, axis=-1, kind="introselect", order=None) -> None:
        import hpcarray

        require_writeable(self, "partition array is read-only")
        manipulation.assign(self, hpcarray.partition(self, kth, axis, kind, order))

    def setflags(self, write=None, align=None, uic=None) -> None:
        # Writes check the local NumPy view's flag (views taken later inherit it, as
        # NumPy's views of a read-only array are read-only).
        if hasattr(self._np.flags, "writeable"):
            self._np.setflags(write, align, uic)
            return
        # Device data has no such flag: NumPy's checks on a stand-in, the flag kept here.
        stand_in(self.dtype, self.shape, writeable(self)).setflags(write, align, uic)
        if write is not None:
            set_writeable(self, bool(write))

    def to_device(self, device, /, *, stream=None):
        if device != "cpu":
            raise ValueError(f"Unsupported device {device!r}. Supported devices: 'cpu'")
        return self

    def byteswap(self, inplace=False):
        if inplace:
            raise NotImplementedError("hpcarray arrays hold native byte order: "
                                      "byteswap(inplace=True) is not supported")
        return _through_numpy(self, "byteswap")()

    def tofile(self, fid, sep="", format="%s") -> None:
        from hpcarray.io.npy import tofile

        tofile(self, fid, sep, format)

    def dump(self, file) -> None:
        _through_numpy(self, "dump")(file)

    def dumps(self) -> bytes:
        return _through_numpy(self, "dumps")()

    def __class_getitem__(cls, item):
        return cls


def ufuncs_round(a, decimals=0, out=None):
    from hpcarray._api.manipulation import round_

    return round_(a, decimals, out)


def _register() -> None:
    from hpcarray._api import convert

    convert._ndarray = ndarray


_register()
