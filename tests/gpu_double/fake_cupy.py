"""TEST DOUBLE of CuPy: device arrays that live in host memory.

No GPU can run on these machines, yet the GPU backend's contract has to hold everywhere
outside backend/: tile memory is a device array, not a NumPy array. This module stands in
for `cupy` (for CupyBackend(fake_cupy, 0)) and behaves as CuPy does where that contract
shows:
- `ndarray` wraps a NumPy array but is not a numpy.ndarray; `np.asarray(x)` (`__array__`)
  raises CuPy's TypeError; `.get()` / `asnumpy` copy to the host.
- NumPy's functions and ufuncs dispatch to it (NEP 18 / NEP 13) only where CuPy has that
  function or ufunc method (cupy_names.json: the names of CuPy 14.2, written from its
  namespace), else NumPy raises its "no implementation found" TypeError, as with CuPy.
  A NumPy array (more than 0-d) among the operands is CuPy's "Unsupported type" TypeError.
- Results are device arrays; reductions and `x[i]` give 0-d arrays, not scalars.
- Memory comes from a pool with CuPy's limit (`set_limit(size=|fraction=)`); going over it
  raises cuda.memory.OutOfMemoryError (a MemoryError), as CuPy's pool does.
- Streams and events have CuPy's API: `cuda.Stream(non_blocking=True)`, `.use()` and `with`
  (the current stream is per thread, the null stream where none was made current),
  `.synchronize()`; `cuda.Event()`, `.record(stream)`, `.synchronize()`,
  `cuda.get_elapsed_time(start, end)` in ms (CUDARuntimeError for an event never recorded).
  `counts` tells tests what a GPU would see: each launch (a device computation or copy:
  ufuncs, functions, copies into device arrays, zero fills, fused plans) by the stream
  current on its thread, and each host wait by stream (`synchronize()`, and what CuPy
  synchronizes implicitly: `get()`, `asnumpy`, `item()`, `bool()`, `float()`, printing,
  pickling).
Not modelled, and so not shown by tests on the double: asynchrony itself. Work runs on the
host at the moment it is launched, so an event's time is the host's time when it was
recorded, a wait never waits, and neither real overlap of GPU work with the host nor a race
between streams (work missing a wait) can show; what can is whether work goes on the
stream meant for it and where the host would wait. Kernels are not modelled either (the
double's backend runs fused plans through the CPU executor: tests/gpu_double/backend.py).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import threading
import time
import traceback
import weakref
from collections import Counter

import numpy as np

_NAMES = json.load(open(os.path.join(os.path.dirname(__file__), "cupy_names.json")))
_FUNCTIONS = frozenset(_NAMES["functions"])
_UFUNCS = {name: frozenset(["__call__", *methods]) for name, methods in _NAMES["ufuncs"].items()}
_METHODS = frozenset(_NAMES["methods"])

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
            "construct a NumPy array explicitly.")
# FAKE_CUPY_TRACE=1: print where each refused conversion was asked for (debugging).
_TRACE = os.environ.get("FAKE_CUPY_TRACE") == "1"
# The "device" this double pretends to have.
DEVICE_MEMORY = 16 << 30


def _unsupported(x):
    if _TRACE:
        traceback.print_stack(limit=8)
    return TypeError(f"Unsupported type {type(x)}")


def _unwrap(x):
    """A device array's NumPy array; NumPy arrays of more than 0 dimensions are refused as
    CuPy's kernels refuse them (scalars and 0-d arrays pass)."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is np.ndarray:
        if x.ndim:
            raise _unsupported(x)
        return x
    if t in (list, tuple):
        return t(_unwrap(v) for v in x)
    if t is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _index(key):
    """An index: device arrays in it become NumPy's; host arrays and lists are taken as
    CuPy takes them (copied to the device)."""
    if type(key) is tuple:
        return tuple(k._a if type(k) is ndarray else k for k in key)
    return key._a if type(key) is ndarray else key


def _wrap(r):
    """NumPy results as device arrays (scalars as 0-d arrays: CuPy's reductions give
    those); anything else as it is."""
    t = type(r)
    if t is np.ndarray:
        if r.base is None:
            _pool.track(r)
        return ndarray._of(r)
    if isinstance(r, np.generic):
        return ndarray._of(np.asarray(r))
    if t in (tuple, list):
        return t(_wrap(v) for v in r)
    return r


class OutOfMemoryError(MemoryError):
    def __init__(self, size: int, total: int, limit: int):
        super().__init__(f"Out of memory allocating {size:,} bytes (allocated so far: "
                         f"{total:,} bytes, limit set to: {limit:,} bytes).")


class MemoryPool:
    """CuPy's device memory pool, as far as its limit goes: every device allocation is
    counted while its array lives."""

    def __init__(self) -> None:
        self._used = 0
        self._limit = 0
        self._lock = threading.Lock()

    def set_limit(self, size: int | None = None, fraction: float | None = None) -> None:
        if size is not None and fraction is not None:
            raise ValueError("size and fraction cannot be specified at one time")
        if fraction is not None:
            if not 0 <= fraction <= 1:
                raise ValueError(f"memory limit fraction out of range: {fraction}")
            size = int(DEVICE_MEMORY * fraction)
        self._limit = int(size or 0)

    def get_limit(self) -> int:
        return self._limit

    def used_bytes(self) -> int:
        return self._used

    def total_bytes(self) -> int:
        return self._used

    def free_all_blocks(self) -> None:
        pass

    def reserve(self, nbytes: int) -> None:
        with self._lock:
            if self._limit and self._used + nbytes > self._limit:
                raise OutOfMemoryError(nbytes, self._used, self._limit)

    def track(self, a: np.ndarray) -> None:
        nbytes = a.nbytes
        if nbytes < 4096:  # small results are not worth a finalizer
            return
        self.reserve(nbytes)
        with self._lock:
            self._used += nbytes
        weakref.finalize(a, self._release, nbytes)

    def _release(self, nbytes: int) -> None:
        with self._lock:
            self._used -= nbytes


_pool = MemoryPool()


def get_default_memory_pool() -> MemoryPool:
    return _pool


class _Pointer:
    def __init__(self, ptr: int):
        self.ptr = ptr


class Flags:
    """CuPy's flags: the contiguities and owndata (no `writeable`: device arrays have none)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a: np.ndarray):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.base is None

    def __getitem__(self, name: str) -> bool:
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]


def _binary(uf, reflected=False):
    def op(self, other):
        if type(other) not in (ndarray, np.ndarray) and not np.isscalar(other) and \
                not isinstance(other, (bool, int, float, complex)):
            return NotImplemented
        return uf(other, self) if reflected else uf(self, other)
    return op


def _inplace(uf):
    def op(self, other):
        return uf(self, other, out=self)
    return op


class ndarray:
    """A device array (see the module's docstring)."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = _allocate(shape, dtype, order)

    @classmethod
    def _of(cls, a: np.ndarray) -> ndarray:
        self = object.__new__(cls)
        self._a = a
        return self

    # -- what CuPy refuses ------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if _TRACE:  # where hpcarray asked (the TypeError is often caught and re-raised)
            traceback.print_stack(limit=8)
        raise TypeError(IMPLICIT)

    # -- NEP 13 / NEP 18 ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method not in _UFUNCS.get(ufunc.__name__, ()):
            return NotImplemented
        out = kwargs.get("out")
        if out is not None:
            outs = out if type(out) is tuple else (out,)
            if any(type(o) is not ndarray for o in outs):
                raise _unsupported(next(o for o in outs if type(o) is not ndarray))
        for x in inputs if method == "__call__" else ():  # (CuPy checks calls only)
            if not (type(x) in (ndarray, np.ndarray) or np.isscalar(x)
                    or isinstance(x, (bool, int, float, complex, np.generic))):
                return NotImplemented
        return _device_call(getattr(ufunc, method))(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if f"{func.__module__}.{func.__name__}" not in _FUNCTIONS:
            return NotImplemented
        if any(t not in (ndarray, np.ndarray) for t in types):
            return NotImplemented
        return _device_call(func)(*args, **kwargs)

    # -- attributes -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value) -> None:
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    strides = property(lambda self: self._a.strides)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: Flags(self._a))
    data = property(lambda self: _Pointer(self._a.__array_interface__["data"][0]))
    device = property(lambda self: Device(0))

    @property
    def flat(self) -> flatiter:
        return flatiter(self)

    @property
    def base(self):
        b = self._a.base
        while isinstance(b, np.ndarray) and b.base is not None:
            b = b.base
        return None if b is None else ndarray._of(b) if isinstance(b, np.ndarray) else None

    @property
    def T(self) -> ndarray:
        return ndarray._of(self._a.T)

    @property
    def mT(self) -> ndarray:
        return ndarray._of(self._a.mT)

    @property
    def real(self) -> ndarray:
        return ndarray._of(self._a.real)

    @real.setter
    def real(self, value) -> None:
        self._a.real = _unwrap(value)

    @property
    def imag(self) -> ndarray:
        return ndarray._of(self._a.imag)

    @imag.setter
    def imag(self, value) -> None:
        self._a.imag = _unwrap(value)

    # -- to and from the host ---------------------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
        if blocking:  # CuPy waits for the stream (the current one unless given)
            counts.sync(stream or get_current_stream())
        if out is not None:
            if type(out) is not np.ndarray:
                raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
            out[...] = self._a
            return out
        return np.array(self._a, order=order)

    def set(self, arr: np.ndarray, stream=None) -> None:
        if type(arr) is not np.ndarray:
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        counts.launch()
        self._a[...] = arr

    def _host(self) -> np.ndarray:
        """The values, where CuPy copies them to the host (it waits for the stream)."""
        counts.sync(get_current_stream())
        return self._a

    def item(self):
        return self._host().item()

    def tolist(self):
        return self._host().tolist()

    def tobytes(self, order="C") -> bytes:
        return self._host().tobytes(order)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self._host())

    def __int__(self) -> int:
        return int(self._host())

    def __float__(self) -> float:
        return float(self._host())

    def __complex__(self) -> complex:
        return complex(self._host())

    def __repr__(self) -> str:
        return repr(self._host())

    def __str__(self) -> str:
        return str(self._host())

    def __format__(self, spec: str) -> str:
        return format(self._host(), spec) if self.ndim == 0 else str(self)

    def __reduce__(self):
        return (_from_host, (self._host().copy(),))

    # -- indexing ---------------------------------------------------------------------
    def __getitem__(self, key):
        key = _index(key)
        r = self._a[key]
        if isinstance(r, np.generic):  # CuPy: a 0-d view, not a scalar
            k = key if type(key) is tuple else (key,)
            r = np.asarray(r) if any(x is Ellipsis for x in k) else self._a[(*k, Ellipsis)]
        return _wrap(r)

    def __setitem__(self, key, value) -> None:
        counts.launch()
        self._a[_index(key)] = value._a if type(value) is ndarray else value

    # -- methods ----------------------------------------------------------------------
    def copy(self, order="C") -> ndarray:
        counts.launch()
        return _wrap(self._a.copy(order))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True) -> ndarray:
        counts.launch()
        kw = {} if casting is None else {"casting": casting}
        return _wrap(self._a.astype(dtype, order=order, copy=copy, **kw))

    def view(self, dtype=None, array_class=None) -> ndarray:
        return ndarray._of(self._a.view() if dtype is None else self._a.view(dtype))

    def fill(self, value) -> None:
        counts.launch()
        self._a.fill(_unwrap(value))

    def __getattr__(self, name: str):
        # The rest of CuPy's methods: NumPy's, on device arrays.
        if name not in _METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        method = getattr(self._a, name)

        @functools.wraps(method)
        def call(*args, **kwargs):
            counts.launch()
            return _wrap(method(*_unwrap(args), **_unwrap(kwargs)))
        return call

    def __dlpack__(self, stream=None):
        raise TypeError("the device double does not export DLPack")

    __add__, __radd__, __iadd__ = _binary(np.add), _binary(np.add, True), _inplace(np.add)
    __sub__, __rsub__, __isub__ = (_binary(np.subtract), _binary(np.subtract, True),
                                   _inplace(np.subtract))
    __mul__, __rmul__, __imul__ = (_binary(np.multiply), _binary(np.multiply, True),
                                   _inplace(np.multiply))
    __truediv__, __rtruediv__, __itruediv__ = (_binary(np.true_divide),
                                               _binary(np.true_divide, True),
                                               _inplace(np.true_divide))
    __floordiv__, __rfloordiv__, __ifloordiv__ = (_binary(np.floor_divide),
                                                  _binary(np.floor_divide, True),
                                                  _inplace(np.floor_divide))
    __mod__, __rmod__, __imod__ = (_binary(np.remainder), _binary(np.remainder, True),
                                   _inplace(np.remainder))
    __pow__, __rpow__, __ipow__ = (_binary(np.power), _binary(np.power, True),
                                   _inplace(np.power))
    __matmul__, __rmatmul__ = _binary(np.matmul), _binary(np.matmul, True)
    __and__, __rand__, __iand__ = (_binary(np.bitwise_and), _binary(np.bitwise_and, True),
                                   _inplace(np.bitwise_and))
    __or__, __ror__, __ior__ = (_binary(np.bitwise_or), _binary(np.bitwise_or, True),
                                _inplace(np.bitwise_or))
    __xor__, __rxor__, __ixor__ = (_binary(np.bitwise_xor), _binary(np.bitwise_xor, True),
                                   _inplace(np.bitwise_xor))
    __lshift__, __rlshift__ = _binary(np.left_shift), _binary(np.left_shift, True)
    __rshift__, __rrshift__ = _binary(np.right_shift), _binary(np.right_shift, True)
    __divmod__ = _binary(np.divmod)
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)
    __lt__, __le__ = _binary(np.less), _binary(np.less_equal)
    __gt__, __ge__ = _binary(np.greater), _binary(np.greater_equal)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __invert__(self):
        return np.invert(self)


class flatiter:  # noqa: N801 - CuPy's name
    """CuPy's `x.flat`: an integer, a slice or Ellipsis only (CuPy 14.2 takes no index
    arrays: IndexError); a slice's assignment cycles the values, as NumPy's."""

    def __init__(self, a: ndarray):
        self._base = a
        self._index = 0

    @staticmethod
    def _check(ind):
        if ind is Ellipsis:
            return slice(None)
        if isinstance(ind, tuple) or isinstance(ind, bool) or not (
                np.isscalar(ind) or isinstance(ind, slice)):
            raise IndexError("unsupported iterator index")
        return int(ind) if np.isscalar(ind) else ind

    def __getitem__(self, ind):
        ind = self._check(ind)
        r = self._base._a.flat[ind]
        return _wrap(np.array(r) if isinstance(ind, int) else r)  # (a copy, 0-d for an int)

    def __setitem__(self, ind, value) -> None:
        self._base._a.flat[self._check(ind)] = value._a if type(value) is ndarray else value

    def __iter__(self):
        return self

    def __next__(self):
        if self._index == len(self):
            raise StopIteration()
        self._index += 1
        return self[self._index - 1]

    def copy(self) -> ndarray:
        return self._base.flatten()

    @property
    def base(self) -> ndarray:
        return self._base

    def __len__(self) -> int:
        return self._base.size


# -- creation and conversion ----------------------------------------------------------

def _allocate(shape, dtype, order="C", zero=False) -> np.ndarray:
    dtype = np.dtype(dtype)
    n = 1
    for d in ((shape,) if isinstance(shape, (int, np.integer)) else shape):
        n *= int(d)
    if zero:
        counts.launch()  # a memset on the stream
    _pool.reserve(n * dtype.itemsize)
    a = np.zeros(shape, dtype, order) if zero else np.empty(shape, dtype, order)
    _pool.track(a)
    return a


def empty(shape, dtype=float, order="C") -> ndarray:
    return ndarray._of(_allocate(shape, dtype, order))


def zeros(shape, dtype=float, order="C") -> ndarray:
    return ndarray._of(_allocate(shape, dtype, order, zero=True))


def empty_like(a, dtype=None, order="K", subok=None, shape=None) -> ndarray:
    return _wrap(np.empty_like(_unwrap(a), dtype, order, shape=shape))


def zeros_like(a, dtype=None, order="K", subok=None, shape=None) -> ndarray:
    counts.launch()
    return _wrap(np.zeros_like(_unwrap(a), dtype, order, shape=shape))


def full(shape, fill_value, dtype=None, order="C") -> ndarray:
    counts.launch()
    return _wrap(np.full(shape, _unwrap(fill_value), dtype, order))


def _from_host(a) -> ndarray:
    counts.launch()
    return _wrap(np.array(a))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0) -> ndarray:
    counts.launch()
    if type(obj) is ndarray:
        return _wrap(np.array(obj._a, dtype, copy=copy, order=order, ndmin=ndmin))
    return _wrap(np.array(obj, dtype, order=order, ndmin=ndmin))  # host -> device: a copy


def asarray(a, dtype=None, order=None, blocking=False) -> ndarray:
    if type(a) is ndarray:
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    counts.launch()
    return _wrap(np.array(a, dtype, order=order))


def ascontiguousarray(a, dtype=None) -> ndarray:
    if type(a) is not ndarray:
        raise _unsupported(a)
    r = np.ascontiguousarray(a._a, dtype)
    if r is a._a:
        return a
    counts.launch()
    return _wrap(r)


def asnumpy(a, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
    if type(a) is ndarray:
        return a.get(stream, order, out, blocking)
    return np.asarray(a, order=order)


def get_array_module(*args):
    import sys

    return sys.modules[__name__] if any(type(a) is ndarray for a in args) else np


def _device_call(fn):
    """`fn` (NumPy's) as CuPy's: on device arrays only, giving device arrays."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        counts.launch()
        out = kwargs.get("out")
        r = fn(*_unwrap(args), **_unwrap(kwargs))
        if type(out) is tuple and len(out) == 1:
            out = out[0]
        return out if type(out) is ndarray else _wrap(r)
    return call


class _Ufunc:
    """A CuPy ufunc: NumPy's, with the methods CuPy has, on device arrays."""

    def __init__(self, uf: np.ufunc):
        self._uf = uf
        self.__name__ = uf.__name__
        self._call = _device_call(uf)

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str):
        if name in ("reduce", "accumulate", "reduceat", "outer", "at"):
            if name not in _UFUNCS[self.__name__]:
                raise AttributeError(f"'cupy.ufunc' object has no attribute '{name}'")
            return _device_call(getattr(self._uf, name))
        return getattr(self._uf, name)


@functools.cache
def __getattr__(name: str):
    """The rest of CuPy's namespace: dtypes and constants as NumPy's; CuPy's functions
    and ufuncs as NumPy's on device arrays."""
    value = getattr(np, name, None)
    if isinstance(value, np.ufunc) and name in _UFUNCS:
        return _Ufunc(value)
    if callable(value) and not isinstance(value, type) and f"numpy.{name}" in _FUNCTIONS:
        return _device_call(value)
    if isinstance(value, (type, float, int)) and not isinstance(value, np.ufunc):
        return value
    raise AttributeError(f"module 'cupy' has no attribute '{name}'")


# -- cuda ---------------------------------------------------------------------------------

class Device:
    def __init__(self, device: int = 0):
        self.id = int(device)

    def use(self) -> None:
        pass

    def synchronize(self) -> None:
        pass

    @property
    def mem_info(self) -> tuple[int, int]:
        return DEVICE_MEMORY - _pool.used_bytes(), DEVICE_MEMORY

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __eq__(self, other) -> bool:
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self) -> int:
        return self.id


class CUDARuntimeError(RuntimeError):
    """cupy_backends.cuda.api.runtime.CUDARuntimeError."""


class Stream:
    """CuPy's Stream. Its work runs when launched (see the module's docstring); `ptr` tells
    streams apart (0: the null stream)."""

    null: Stream
    _ids = itertools.count(1)

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self.ptr = 0 if null else next(Stream._ids)
        self.non_blocking = non_blocking
        self.device_id = 0

    def synchronize(self) -> None:
        counts.sync(self)

    def record(self, event=None) -> Event:
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event) -> None:
        pass

    @property
    def done(self) -> bool:
        return True

    def use(self) -> Stream:
        """The current stream of this thread from now on."""
        _local.stream = self
        return self

    def __enter__(self) -> Stream:
        _local.__dict__.setdefault("outer", []).append(get_current_stream())
        _local.stream = self
        return self

    def __exit__(self, *exc) -> None:
        _local.stream = _local.outer.pop()

    def __repr__(self) -> str:
        return f"<Stream {self.ptr} (device 0)>"


_local = threading.local()  # .stream: the thread's current stream; .outer: with-blocks'
Stream.null = Stream(null=True)


def get_current_stream() -> Stream:
    return getattr(_local, "stream", None) or Stream.null


class Event:
    """CuPy's Event: its time is the host's when it was recorded (the double's work is
    done by then, as a GPU's would be when the stream reaches the event)."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.disable_timing = disable_timing
        self._ns: int | None = None

    def record(self, stream=None) -> None:
        self._ns = time.perf_counter_ns()

    def synchronize(self) -> None:
        counts.sync("event")

    @property
    def done(self) -> bool:
        return True


def get_elapsed_time(start_event: Event, end_event: Event) -> float:
    """Milliseconds from one recorded event to another."""
    for ev in (start_event, end_event):
        if ev._ns is None or ev.disable_timing:
            raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    return (end_event._ns - start_event._ns) / 1e6


class Counts:
    """What a GPU would have seen since `reset()`: launches by the stream current on their
    thread (its ptr; 0 the null stream) and host waits by stream (its ptr, or "event").
    `log`: a list to append (ptr, thread's native id, time.monotonic_ns()) of each launch
    to (None: not logged)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.launches: Counter = Counter()
        self.syncs: Counter = Counter()
        self.log: list | None = None

    def launch(self) -> None:
        ptr = get_current_stream().ptr
        with self._lock:
            self.launches[ptr] += 1
            if self.log is not None:
                self.log.append((ptr, threading.get_native_id(), time.monotonic_ns()))

    def sync(self, stream) -> None:
        with self._lock:
            self.syncs[getattr(stream, "ptr", stream)] += 1


counts = Counts()


class _Runtime:
    CUDARuntimeError = CUDARuntimeError

    @staticmethod
    def getDeviceCount() -> int:
        return 1


class _Memory:
    OutOfMemoryError = OutOfMemoryError


class cuda:  # noqa: N801 - the module's name in CuPy
    Device = Device
    Stream = Stream
    Event = Event
    memory = _Memory
    runtime = _Runtime

    get_current_stream = staticmethod(get_current_stream)
    get_elapsed_time = staticmethod(get_elapsed_time)


class cupyx:  # noqa: N801 - what CupyBackend uses of cupyx
    @staticmethod
    def empty_pinned(shape, dtype=float, order="C") -> np.ndarray:
        return np.empty(shape, dtype, order)


__version__ = f"double of {_NAMES['cupy']}"
