"""Moving between hpcarray arrays, NumPy arrays and Python values."""

from __future__ import annotations

import numbers

import numpy as np

from hpcarray._dtypes import as_dtype, check_dtype
from hpcarray.runtime import get_runtime
from hpcarray.runtime.placed import Placed
from hpcarray.runtime.view import View

_ndarray = None  # hpcarray._array.ndarray, set when that module loads (it imports this one)


def shape_text(shape) -> str:
    """A shape as NumPy's error messages write it: (3,4), (4,), ()."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ",".join(str(n) for n in shape) + ")"


def is_array(x) -> bool:
    return isinstance(x, _ndarray)


def wrap(view: View, np_view: np.ndarray | None = None):
    """A new hpcarray array over `view`; `np_view` is NumPy's view of the same data (or,
    where a rank holds a block of the store or the data is device memory, `numpy_view`'s
    stand-in: then only its writeable flag counts)."""
    a = object.__new__(_ndarray)
    a._v = view
    store = view.store
    if np_view is not None and not store.blocked:
        if not store.block.on_host and isinstance(np_view, np.ndarray):
            # a stand-in of device data (numpy_view): the data from the view (memory not
            # yet allocated: the same; host memory: a view equal to np_view)
            a._np = view.to_numpy()
            if not np_view.flags.writeable:
                a._ro = True
            return a
        a._np = np_view
        return a
    data = view.to_numpy()
    if np_view is not None and not np_view.flags.writeable and type(data) is Placed:
        data.writeable = False
    a._np = data
    return a


def writeable(x) -> bool:
    """Whether an hpcarray array may be written: its data's writeable flag (NumPy's, or a
    Placed array's); device data has none: the flag the front end keeps for it (`_ro`,
    set where NumPy would make the array read-only)."""
    flag = getattr(x._np.flags, "writeable", None)
    return not x._ro if flag is None else flag


def require_writeable(x, message: str = "output array is read-only") -> None:
    """NumPy's ValueError, with NumPy's message for the call, where `x` may not be
    written: checked where the call starts, as NumPy does, and the only check that device
    data gets (it has no flag for a kernel to find)."""
    if not writeable(x):
        raise ValueError(message)


def set_writeable(x, flag: bool) -> None:
    """Set an array's writeable flag (see `writeable`)."""
    flags = x._np.flags
    if hasattr(flags, "writeable"):
        flags.writeable = flag
    else:
        x._ro = not flag


class DeviceFlags:
    """`a.flags` of device data: CuPy's contiguity and ownership, and the writeable flag
    the front end keeps (`writeable`)."""

    __slots__ = ("_a",)
    aligned = True
    writebackifcopy = False
    _NAMES = ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA", "WRITEABLE", "ALIGNED",
              "WRITEBACKIFCOPY")
    _LETTERS = {"C": "C_CONTIGUOUS", "F": "F_CONTIGUOUS", "O": "OWNDATA", "W": "WRITEABLE",
                "A": "ALIGNED", "X": "WRITEBACKIFCOPY"}

    def __init__(self, a) -> None:
        object.__setattr__(self, "_a", a)

    @property
    def writeable(self) -> bool:
        return writeable(self._a)

    @property
    def c_contiguous(self) -> bool:
        return bool(self._a._np.flags.c_contiguous)

    @property
    def f_contiguous(self) -> bool:
        return bool(self._a._np.flags.f_contiguous)

    @property
    def owndata(self) -> bool:
        return bool(self._a._np.flags.owndata)

    contiguous = c_contiguous

    def __setattr__(self, name: str, value) -> None:
        if name == "writeable":
            self._a.setflags(write=value)
        else:  # NumPy's errors (the flags it lets one set mean nothing for device data)
            setattr(stand_in(self._a.dtype, self._a.shape, True).flags, name, value)

    def __getitem__(self, name: str) -> bool:
        key = self._LETTERS.get(name, name)
        if key not in self._NAMES:
            raise KeyError("Unknown flag")
        return getattr(self, key.lower())

    def __repr__(self) -> str:
        return "".join(f"  {n} : {self[n]}\n" for n in self._NAMES)


def numpy_view(x) -> np.ndarray:
    """NumPy's view of an array's data where this rank holds all of it in host memory;
    else (a block of it, device memory) a stand-in of its shape, dtype and writeable flag
    with no data (one zero-stride element), for NumPy's argument checks, error messages,
    result shapes and flags."""
    data = x._np
    if type(data) is np.ndarray:
        return data
    if type(data) is Placed:
        if x._v.store.blocked:
            return stand_in(data.dtype, data.shape, data.writeable)
        data = _unplaced(x)
    if isinstance(data, np.ndarray):
        return data
    return stand_in(data.dtype, data.shape, writeable(x))


def stand_in(dtype, shape, writeable: bool = False) -> np.ndarray:
    """A memory-free NumPy array of `shape` and `dtype` whose elements all are one zero
    (zero: casting garbage would warn of values that do not exist), for NumPy's argument
    checks, error messages and result shapes. Writes to a writeable one land in that
    element. (0.5 us: numpy's as_strided or broadcast_to take 3 us, on every operator.)"""
    dtype = np.dtype(dtype)
    arr = np.ndarray(shape, dtype, np.zeros(1, dtype), 0, (0,) * len(shape))
    if not writeable:
        arr.flags.writeable = False
    return arr


_probes: dict = {}


def shape_probe(dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only `stand_in`, made once per dtype and shape (a loop's slices of the same
    arrays ask for the same few): what indexing checks keys and result shapes against."""
    key = (dtype, shape)
    probe = _probes.get(key)
    if probe is None:
        if len(_probes) > 4096:  # (a program of ever new shapes)
            _probes.clear()
        probe = _probes[key] = stand_in(dtype, shape)
    return probe


def whole_view(buffer: np.ndarray) -> View:
    """The whole of a new store over `buffer` (already filled)."""
    return View.whole(get_runtime().wrap_buffer(buffer))


def adopt(buffer: np.ndarray):
    """A new hpcarray array over a fresh C-contiguous NumPy buffer of a supported dtype. Its
    store is built when something first asks for it (`ndarray.__getattr__`): until then the
    array is its buffer alone, which is all the small-array fast path reads."""
    a = object.__new__(_ndarray)
    a._np = buffer
    return a


def new_array(shape, dtype, zero: bool = False, tiling=None):
    """A fresh array with its own store (contents undefined unless `zero`), tiled like
    every array of its shape unless `tiling` is given."""
    dtype = check_dtype(np.dtype(dtype))
    shape = tuple(int(n) for n in shape)
    return whole_array(get_runtime().new_store(shape, dtype, zero, tiling))


def whole_array(store):
    """A new hpcarray array over the whole of `store`."""
    return wrap(View.whole(store), None if store.blocked else store.buffer)


def new_result(shape, dtype):
    """A fresh array that an operation launched right now writes (not a fused one, whose
    buffer is chosen at launch): it takes the buffer of a dropped array of its shape,
    waiting for that one's pending tasks if need be (a loop's last result), rather than
    fault in fresh pages (runtime/backend/pool.py)."""
    res = new_array(shape, dtype)
    get_runtime().reuse_buffer(res._v.store, res)
    return res


def from_numpy(arr: np.ndarray, copy: bool = True):
    """An hpcarray array holding (a copy of) a NumPy array."""
    dtype = check_dtype(arr.dtype)
    if copy or not arr.flags.c_contiguous or not arr.flags.writeable or dtype != arr.dtype:
        arr = np.array(arr, dtype=dtype, order="C", copy=True)
    return whole_array(get_runtime().wrap_buffer(arr))


def asarray(obj, dtype=None, copy: bool | None = None):
    """Like numpy.asarray: hpcarray arrays pass through (cast if asked), others convert."""
    dtype = as_dtype(dtype)
    if is_array(obj):
        if dtype is not None and dtype != obj.dtype:
            return obj.astype(dtype)
        return obj.copy() if copy else obj
    if isinstance(obj, (list, tuple)) and any(is_array(x) for x in _flat_items(obj)):
        obj = _gather_nested(obj)
    arr = np.asarray(obj, dtype=dtype)
    if dtype is None and arr.dtype.kind in "OUSV":
        check_dtype(arr.dtype)
    return from_numpy(arr, copy=True)


def _flat_items(obj):
    for x in obj:
        if isinstance(x, (list, tuple)):
            yield from _flat_items(x)
        else:
            yield x


def _gather_nested(obj):
    if isinstance(obj, (list, tuple)):
        return [_gather_nested(x) for x in obj]
    return to_numpy(obj) if is_array(obj) else obj


def to_numpy(a) -> np.ndarray:
    """The array's values as a NumPy array: a sync point. Waits for pending writers and,
    across ranks, gathers the tiles the array covers (every rank gets the same values)."""
    v = a._v
    rt = get_runtime()
    if rt.dist is None:
        rt.wait(v.store)
    elif v.store.blocked:  # each rank holds a block: gather into a temporary
        return rt.gathered(v)
    else:
        rt.gather(v.store, v.image(tuple((0, n) for n in v.shape)) if a._np.size else None)
    return rt.backend.to_host(_unplaced(a))  # (the CPU's: the view itself)


def _unplaced(x) -> np.ndarray:
    """x's NumPy view, for an array made while its store was held as blocks and held whole
    since (Runtime.globalize): its Placed data becomes the plain view, once."""
    data = x._np
    if type(data) is Placed:
        whole = data._global()
        if not data.writeable and not isinstance(whole, np.ndarray):
            x._ro = True  # (device data: the flag the front end keeps)
        x._np = data = whole
    return data


def on_device(value):
    """Host arrays (indices, values; also inside tuples and lists) where whole-array
    kernels' data is: themselves on the CPU, device copies on a GPU backend (CuPy takes no
    host arrays with device ones). Kernels call it: once per task."""
    return _moved(value, get_runtime().backend.from_host)


def _moved(value, move):
    if isinstance(value, np.ndarray):
        return move(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_moved(v, move) for v in value)
    return value


def operand(x):
    """Normalize a ufunc operand: hpcarray arrays and Python/NumPy scalars pass through,
    anything array-like becomes an hpcarray array."""
    if is_array(x) or isinstance(x, (numbers.Number, np.generic)):
        if isinstance(x, np.generic):
            check_dtype(x.dtype)
        return x
    return asarray(x)


def numpy_args(value):
    """Replace hpcarray arrays (also inside lists, tuples, dicts) by NumPy arrays."""
    if is_array(value):
        return to_numpy(value)
    if isinstance(value, list):
        return [numpy_args(v) for v in value]
    if isinstance(value, tuple):
        return tuple(numpy_args(v) for v in value)
    if isinstance(value, dict):
        return {k: numpy_args(v) for k, v in value.items()}
    return value


def hpc_results(value):
    """Turn NumPy arrays in a result (also inside tuples and lists) into hpcarray arrays.
    Subclasses stay NumPy's: a masked array, a matrix or a record array is more than its
    values."""
    if type(value) is np.ndarray:
        try:
            return from_numpy(value, copy=True)
        except TypeError:
            return value  # a dtype hpcarray does not hold (strings, objects): NumPy's
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(hpc_results(v) for v in value)
    if isinstance(value, list):
        return [hpc_results(v) for v in value]
    return value
