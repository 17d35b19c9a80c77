"""Random numbers that do not depend on the partitioning.

Every draw is NumPy's own stream: the legacy functions (`rand`, `normal`, `seed`, ...) use
NumPy's global RandomState itself, so `hpcarray.random.seed(s)` seeds `numpy.random` too
and a program mixing hpcarray and NumPy calls sees one stream; `default_rng(seed)` returns a
`Generator` wrapping `numpy.random.Generator`. The numbers are therefore identical to
NumPy's for the same call sequence, whatever the tiling, worker count or rank count.

How the numbers are produced:
- Sequential streams (MT19937, and every distribution whose draws consume a variable
  number of bits: normal, integers, ...) are drawn by NumPy on the calling thread at call
  time, straight into the new array's buffer (no copy), in program order. This keeps the
  stream order exact even next to NumPy calls and fallbacks that use the same state.
  On several ranks every rank draws the whole array (redundant, no communication).
- `Generator.random` and `Generator.uniform` (float64, scalar bounds) on a PCG64 bit
  generator are tile-parallel: each element consumes exactly one 64-bit output, so the
  task of a tile copies the start state, `advance()`s it to the tile's first element in
  C order and draws its runs; the generator's own state is advanced past the whole array
  at once. The result is bit-identical to NumPy's sequential draw.
"""

from __future__ import annotations

import operator

import numpy as np

from hpcarray._api.convert import from_numpy, is_array, numpy_args, to_numpy
from hpcarray._replicated import replicated_across_ranks
from hpcarray.runtime import get_runtime, tasks


def _result(value):
    """NumPy results as hpcarray arrays (no copy for fresh arrays); scalars as they are."""
    if isinstance(value, np.ndarray):
        try:
            return from_numpy(value, copy=False)
        except TypeError:
            return value
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_result(v) for v in value)
    return value


def _call(method, args, kwargs):
    return _result(method(*numpy_args(args), **numpy_args(kwargs)))


def _shuffle_inplace(method, x, axis=None):
    """In-place shuffle of an hpcarray array with NumPy's stream."""
    if not is_array(x):
        if axis is None:
            return method(x)
        return method(x, axis=axis)
    from hpcarray._api.convert import require_writeable
    from hpcarray._fallback import inplace_numpy

    require_writeable(x, "array is read-only")
    if axis is None:
        inplace_numpy(x, method)
    else:
        inplace_numpy(x, lambda a: method(a, axis=axis))
    return None


class _Wrapper:
    """Methods of a NumPy RandomState/Generator, run on NumPy, results as hpcarray arrays."""

    _np_obj: object

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self._np_obj, name)
        if not callable(attr):
            return attr

        def method(*args, **kwargs):
            return _call(attr, args, kwargs)

        method.__name__ = name
        method.__doc__ = getattr(attr, "__doc__", None)
        return method

    def __dir__(self):
        return sorted(set(dir(type(self))) | set(dir(self._np_obj)))


# -- legacy RandomState ----------------------------------------------------------------


class RandomState(_Wrapper):
    """numpy.random.RandomState whose results are hpcarray arrays."""

    def __init__(self, seed=None, *, _wrap=None):
        object.__setattr__(self, "_own", _wrap)
        if _wrap is None:
            object.__setattr__(self, "_own", np.random.RandomState(numpy_args(seed)))

    @property
    def _np_obj(self):
        own = self._own
        return own() if callable(own) and not isinstance(own, np.random.RandomState) else own

    def __repr__(self) -> str:
        return f"RandomState(MT19937) at 0x{id(self):X} (hpcarray)"

    def seed(self, seed=None):
        self._np_obj.seed(numpy_args(seed))

    def get_state(self, legacy=True):
        return self._np_obj.get_state(legacy=legacy)

    def set_state(self, state):
        self._np_obj.set_state(state)

    def shuffle(self, x):
        return _shuffle_inplace(self._np_obj.shuffle, x)


def _global_rs():
    """NumPy's global RandomState (looked up each time: numpy may replace it)."""
    return np.random.mtrand._rand


_GLOBAL = RandomState(_wrap=_global_rs)


# -- Generator -------------------------------------------------------------------------


def _c_order_runs(rect, shape):
    """Contiguous C-order runs of a rectangle: (flat offset, length, index tuple)."""
    nd = len(shape)
    # trailing dimensions the rectangle covers fully are part of every run
    t = nd
    while t > 0 and rect[t - 1] == (0, shape[t - 1]):
        t -= 1
    inner = 1
    for n in shape[t:]:
        inner *= n
    strides = [1] * nd
    for d in range(nd - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    if t == 0:
        return [(0, inner, tuple(slice(lo, hi) for lo, hi in rect))]
    p = t - 1
    lo_p, hi_p = rect[p]
    length = (hi_p - lo_p) * inner
    outer: list[tuple[int, ...]] = [()]
    for d in range(p):
        outer = [o + (i,) for o in outer for i in range(*rect[d])]
    runs = []
    for o in outer:
        off = sum(i * s for i, s in zip(o, strides)) + lo_p * strides[p]
        key = o + (slice(lo_p, hi_p),) + tuple(slice(None) for _ in range(p + 1, nd))
        runs.append((off, length, key))
    return runs


def _normalize_size(size):
    if size is None:
        return None
    try:
        return (operator.index(size),)
    except TypeError:
        return tuple(operator.index(n) for n in size)


class Generator(_Wrapper):
    """numpy.random.Generator whose results are hpcarray arrays.

    `random` and `uniform` draw tile-parallel on PCG64 (bit-identical to NumPy);
    everything else draws on NumPy in program order.
    """

    def __init__(self, bit_generator):
        if isinstance(bit_generator, np.random.Generator):
            g = bit_generator
        else:
            g = np.random.Generator(bit_generator)
        object.__setattr__(self, "_g", g)

    @property
    def _np_obj(self):
        return self._g

    @property
    def bit_generator(self):
        return self._g.bit_generator

    def __repr__(self) -> str:
        return f"Generator({type(self._g.bit_generator).__name__}) at 0x{id(self):X} (hpcarray)"

    def __getstate__(self):
        return {"g": self._g}

    def __setstate__(self, state):
        object.__setattr__(self, "_g", state["g"])

    def spawn(self, n_children):
        return [Generator(g) for g in self._g.spawn(n_children)]

    def shuffle(self, x, axis=0):
        return _shuffle_inplace(self._g.shuffle, x, axis)

    # -- tile-parallel uniform doubles ----------------------------------------------

    def _parallel_ok(self, shape, dtype) -> bool:
        if shape is None or type(self._g.bit_generator) is not np.random.PCG64:
            return False
        if np.dtype(dtype) != np.float64:
            return False
        rt = get_runtime()
        n = 1
        for s in shape:
            n *= s
        return n > 0 and not (rt.idle and rt.is_small(n))

    def _parallel_fill(self, out, draw, name, use_out=False):
        """Fill `out` (float64) with draws of one uint64 each, tile by tile."""
        rt = get_runtime()
        if tasks.needs_replication(rt, [out._v]):  # alias views across ranks: draw in order
            def fill():
                out._np[...] = draw(self._g, out.size).reshape(out.shape)
            tasks.replicated(rt, name, fill, [out._v], [])
            return out
        bg = self._g.bit_generator
        lock = bg.lock
        with lock:
            start = bg.state
            n = out.size
            probe = np.random.PCG64(0)
            probe.state = start
            probe.advance(n)
            after = probe.state
            # advance() drops the buffered 32-bit half; sequential doubles keep it.
            after["has_uint32"] = start["has_uint32"]
            after["uinteger"] = start["uinteger"]
            bg.state = after
        shape = out.shape
        onp = out._np
        # NumPy draws into host memory only (`out=` takes a NumPy array unchecked): on
        # another backend the values are drawn on the host and copied.
        use_out = use_out and rt.backend.xp is np
        op = rt.operation(name, [], [out._v.store])
        for rect, owner in out._v.launch_tiles():
            runs = _c_order_runs(rect, shape)

            def kernel(runs=runs):
                local = np.random.PCG64(0)
                local.state = start
                gen = np.random.Generator(local)
                pos = 0
                for off, length, key in runs:
                    if off != pos:
                        local.advance(off - pos)
                    dst = onp[key]
                    if use_out and dst.flags.c_contiguous:
                        gen.random(out=dst)
                    else:
                        dst[...] = draw(gen, length).reshape(dst.shape)
                    pos = off + length

            size = 1
            for lo, hi in rect:
                size *= hi - lo
            tasks.launch(rt, op, kernel, rect, owner,
                         [(out._v.store, out._v.image(rect), True)], [], nbytes=size * 8)
        tasks.note_writes(rt, [out._v])
        return out

    def random(self, size=None, dtype=np.float64, out=None):
        shape = _normalize_size(size)
        if out is not None and is_array(out):
            if size is not None and shape != out.shape:
                raise ValueError("size must match out.shape when used together")
            if out.dtype == np.float64 and np.dtype(dtype) == np.float64 and \
                    type(self._g.bit_generator) is np.random.PCG64 and out.size:
                return self._parallel_fill(out, lambda g, k: g.random(k), "random", True)
            from hpcarray._api.manipulation import assign

            assign(out, _call(self._g.random, (out.shape,), {"dtype": dtype}))
            return out
        if self._parallel_ok(shape, dtype):
            from hpcarray._api.convert import new_result

            res = new_result(shape, np.float64)
            return self._parallel_fill(res, lambda g, k: g.random(k), "random", True)
        return _call(self._g.random, (size,), {"dtype": dtype, "out": out})

    def uniform(self, low=0.0, high=1.0, size=None):
        shape = _normalize_size(size)
        scalar = all(isinstance(v, (int, float, np.integer, np.floating)) and
                     not isinstance(v, bool) for v in (low, high))
        if scalar and self._parallel_ok(shape, np.float64):
            # NumPy's checks (finite range etc.) without touching the stream.
            np.random.Generator(np.random.PCG64(0)).uniform(low, high, size=0)
            lo, hi = float(low), float(high)
            from hpcarray._api.convert import new_result

            res = new_result(shape, np.float64)
            return self._parallel_fill(res, lambda g, k: g.uniform(lo, hi, k), "uniform")
        return _call(self._g.uniform, (low, high, size), {})


def default_rng(seed=None):
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, np.random.Generator):
        return Generator(seed)
    if is_array(seed):
        seed = to_numpy(seed)
    return Generator(np.random.default_rng(seed))


# -- module-level functions on NumPy's global state --------------------------------------


def seed(seed=None):
    _global_rs().seed(numpy_args(seed))


def get_state(legacy=True):
    return _global_rs().get_state(legacy=legacy)


def set_state(state):
    _global_rs().set_state(state)


@replicated_across_ranks
def shuffle(x):
    return _shuffle_inplace(_global_rs().shuffle, x)


LEGACY = ("rand", "randn", "random", "random_sample", "ranf", "sample", "randint",
          "random_integers", "uniform", "normal", "standard_normal", "choice", "permutation",
          "bytes", "beta", "binomial", "chisquare", "dirichlet", "exponential", "f", "gamma",
          "geometric", "gumbel", "hypergeometric", "laplace", "logistic", "lognormal",
          "logseries", "multinomial", "multivariate_normal", "negative_binomial",
          "noncentral_chisquare", "noncentral_f", "pareto", "poisson", "power", "rayleigh",
          "standard_cauchy", "standard_exponential", "standard_gamma", "standard_t",
          "triangular", "vonmises", "wald", "weibull", "zipf")


def _legacy(name):
    def fn(*args, **kwargs):
        return _call(getattr(_global_rs(), name), args, kwargs)

    target = getattr(np.random, name, None)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = getattr(target, "__doc__", None)
    return replicated_across_ranks(fn)


legacy_functions = {name: _legacy(name) for name in LEGACY if hasattr(np.random, name)}
