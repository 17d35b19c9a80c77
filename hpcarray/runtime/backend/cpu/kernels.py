"""Fused kernels: how a group of elementwise nodes runs on one tile.

Two ways, both giving NumPy's results bit for bit:
- blocked NumPy: the tile is cut into cache-sized blocks and every node runs as its own
  NumPy call on the block; temporaries live in small scratch blocks reused from block to
  block, so they never reach memory. Any ufunc and any dtype.
- compiled (numba, when installed): one loop nest over the strided tile computing every
  node per element, for float32/float64 arithmetic (the IEEE operations +, -, *, /, sqrt,
  which round the same in any implementation). Used for tiles of at least `JIT_MIN`
  elements (HPCARRAY_JIT=auto), always (=always) or never (=off).
A group with both kinds of steps (exp or log among arithmetic) runs blocked, with each run
of two or more compilable steps as one compiled call per block (a *hybrid* plan): fewer
Python calls, so worker threads hold the GIL less, and the run's temporaries stay in
registers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from hpcarray.runtime import fpe, trace
from hpcarray.runtime.backend.cpu import ieee_flags

# What a compiled kernel computes, as numba expressions of the operands "{0}", "{1}": the
# IEEE operations, rounded alike everywhere (so NumPy's bits), comparisons, copies (casts)
# and where.
EXPRESSIONS = {
    "add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
    "divide": "({0} / {1})", "true_divide": "({0} / {1})", "negative": "(-{0})",
    "positive": "(+{0})", "square": "({0} * {0})", "sqrt": "np.sqrt({0})",
    "absolute": "abs({0})", "less": "({0} < {1})", "less_equal": "({0} <= {1})",
    "greater": "({0} > {1})", "greater_equal": "({0} >= {1})", "equal": "({0} == {1})",
    "not_equal": "({0} != {1})", "copy": "{0}", "where": "({1} if {0} else {2})"}
# Elements per block of the blocked NumPy kernel: a few blocks per node fit in L2.
BLOCK_ELEMENTS = 1 << 15
# Tiles smaller than this run blocked NumPy even when numba is there (compiling costs).
JIT_MIN = 1 << 16
_JIT_LOOPS = (np.dtype(np.float64), np.dtype(np.float32))
_JIT_DTYPES = (*_JIT_LOOPS, np.dtype(bool))  # of arrays and values (comparisons give bool)


class Step:
    __slots__ = ("func", "args", "dest", "dtype", "jit_ok", "issue")

    def __init__(self, func, args, dest, dtype, jit_ok, issue=None):
        self.func = func
        self.args = args  # ("leaf", k) | ("step", s) | ("scalar", value)
        self.dest = dest  # ("out", k) | ("tmp", slot)
        self.dtype = dtype
        self.jit_ok = jit_ok  # this step can be compiled
        self.issue = issue  # its operation's errstate and line (fpe.Issue)

    @property
    def member(self) -> tuple:
        """(issue, name, conditions) for ieee_flags.run_compiled."""
        f = self.func
        return self.issue, f.fpe_name or f.name, f.conditions


class Segment:
    """Consecutive compilable steps of a hybrid plan, run as one compiled call per block.
    Values used only inside the segment are never stored."""

    __slots__ = ("steps", "stored", "inputs", "scalars", "source", "members")

    def __init__(self, plan: Plan, first: int, last: int):
        self.steps = list(range(first, last + 1))
        self.members = [plan.steps[s].member for s in self.steps]
        inside = set(self.steps)
        used_after = {val for st in plan.steps[last + 1:] for kind, val in st.args
                      if kind == "step"}
        self.stored = [s for s in self.steps
                       if plan.steps[s].dest[0] == "out" or s in used_after]
        self.inputs: list[tuple[str, int]] = []  # ("leaf", k) | ("step", s) from before
        self.scalars: list = []
        for s in self.steps:
            for pos, (kind, val) in enumerate(plan.steps[s].args):
                if kind == "scalar":
                    func = plan.steps[s].func  # the ufunc loop's type, unless kept as is
                    self.scalars.append(val if pos in func.keep else func.loop.type(val))
                elif (kind == "leaf" or val not in inside) and (kind, val) not in self.inputs:
                    self.inputs.append((kind, val))

    def source_for(self, plan: Plan, ndim: int, prefix: str = "d", flat: bool = False,
                   same: tuple[int, ...] = ()) -> str:
        """The kernel's source: stored values go to `prefix`0, 1, ... (outputs `o` for a
        whole plan, `d` for a segment of a hybrid one).

        `same[k] = j >= 0`: input k is stored value j's very array (an in-place update,
        `x += y`), read through it: LLVM cannot vectorize a loop that reads one pointer and
        writes another that may overlap it (3x slower where the data is in cache).

        `flat`: every array comes as a 1-D contiguous array from its first element on,
        with its strides in elements along all axes but the last (where it is 1), and
        the extents as n0, n1, ...: the inner loop then runs over contiguous memory, which
        LLVM vectorizes (numba's arrays of any layout hide that the step there is 1)."""
        dest = {s: f"{prefix}{k}" for k, s in enumerate(self.stored)}
        same = same or (-1,) * len(self.inputs)
        arg = {key: f"a{k}" if j < 0 else f"{prefix}{j}"
               for k, (key, j) in enumerate(zip(self.inputs, same))}
        arrays = list(dest.values()) + [f"a{k}" for k, j in enumerate(same) if j < 0]
        params = arrays + [f"s{k}" for k in range(len(self.scalars))]
        idx = ", ".join(f"i{d}" for d in range(ndim))
        rows: list[str] = []  # flat: each array's current row, a contiguous 1-D slice
        if flat:
            params += [f"{x}_s{d}" for x in arrays for d in range(ndim - 1)]
            params += [f"n{d}" for d in range(ndim)]
            last = f"i{ndim - 1}"
            for x in arrays if ndim > 1 else ():
                start = " + ".join(f"i{d} * {x}_s{d}" for d in range(ndim - 1))
                rows.append(f"r_{x} = {x}[{start}:{start} + n{ndim - 1}]")

            def ref(x: str) -> str:
                return f"{x}[{last}]" if ndim == 1 else f"r_{x}[{last}]"
        else:
            def ref(x: str) -> str:
                return f"{x}[{idx}]"
        body, nscalar = [], 0
        for s in self.steps:
            st = plan.steps[s]
            operands = []
            for pos, (kind, val) in enumerate(st.args):
                cast = "" if pos in st.func.keep else f"np.{st.func.loop.name}"
                if kind == "scalar":
                    operands.append(f"s{nscalar}")
                    nscalar += 1
                elif (kind, val) in arg:
                    operands.append(f"{cast}({ref(arg[(kind, val)])})")
                else:
                    operands.append(f"{cast}(v{val})")
            body.append(f"v{s} = np.{st.dtype.name}({st.func.jit.format(*operands)})")
            if s in dest:
                body.append(f"{ref(dest[s])} = v{s}")
        extents = [f"n{d}" for d in range(ndim)] if flat else \
            [f"{prefix}0.shape[{d}]" for d in range(ndim)]
        return _loop_nest(params, body, extents, rows)


class FlatCall(NamedTuple):
    """A flat kernel's call on one tile's arrays (see Segment.source_for), for rows lo:hi
    of them: each array from its first element on and its step per row, then the scalars,
    the strides, and the extents after the first."""

    source: str
    firsts: list[np.ndarray]
    row_steps: list[int]
    scalars: list
    strides: list[int]
    rest: tuple[int, ...]
    members: list  # its steps' (issue, name, conditions): ieee_flags.run_compiled

    def args(self, lo: int, hi: int) -> list:
        return [*[f[lo * st:] for f, st in zip(self.firsts, self.row_steps)],
                *self.scalars, *self.strides, hi - lo, *self.rest]


class Plan:
    """The steps of a fused kernel: needed nodes in order, each writing an output or a
    scratch slot (slots are reused once a value is dead)."""

    def __init__(self, steps, leaves, slots):
        self.steps = steps
        self.leaves = leaves  # indices of the group's leaves the steps read
        self.slots = slots  # dtype per scratch slot
        self._sources: dict[tuple, str] = {}  # (ndim, flat, same) -> kernel source
        self._programs: dict[int, list] = {}  # ndim -> hybrid program (_hybrid_program)
        # Every step compiles: the whole plan is one compiled loop nest.
        self.whole = Segment(self, 0, len(steps) - 1) if steps and all(
            st.jit_ok for st in steps) else None
        # Hybrid: runs of two or more compilable steps (only where not all steps are).
        self.segments: list[Segment] = []
        if self.whole is None:
            run: list[int] = []
            for s, st in enumerate(steps + [None]):
                if st is not None and st.jit_ok:
                    run.append(s)
                    continue
                if len(run) >= 2:
                    self.segments.append(Segment(self, run[0], run[-1]))
                run = []

    @classmethod
    def build(cls, nodes, live: list[int], leaf_dtypes) -> Plan:
        needed = set(live)
        for j in range(len(nodes) - 1, -1, -1):
            if j in needed:
                needed.update(a[1] for a in nodes[j].args if a[0] == "node")
        order = sorted(needed)
        last_use = {}
        for j in order:
            for a in nodes[j].args:
                if a[0] == "node":
                    last_use[a[1]] = j
        out_of = {j: k for k, j in enumerate(live)}
        step_of: dict[int, int] = {}
        leaf_map: dict[int, int] = {}
        slots: list[np.dtype] = []
        free: list[int] = []
        slot_of: dict[int, int] = {}
        steps = []
        for j in order:
            n = nodes[j]
            args = []
            for kind, val in n.args:
                if kind == "leaf":
                    args.append(("leaf", leaf_map.setdefault(val, len(leaf_map))))
                elif kind == "node":
                    args.append(("step", step_of[val]))
                else:
                    args.append(("scalar", val))
            # Scratch of values dying here may take this node's result (same dtype only).
            for kind, val in n.args:
                if kind == "node" and last_use.get(val) == j and val in slot_of:
                    free.append(slot_of.pop(val))
            if j in out_of:
                dest = ("out", out_of[j])
            else:
                slot = next((s for s in free if slots[s] == n.dtype), None)
                if slot is None:
                    slot = len(slots)
                    slots.append(n.dtype)
                else:
                    free.remove(slot)
                slot_of[j] = slot
                dest = ("tmp", slot)
            step_ok = (n.func.jit is not None and n.dtype in _JIT_DTYPES
                       and n.func.loop in _JIT_LOOPS
                       and all(_operand_ok(kind, val, leaf_dtypes, steps, step_of)
                               for kind, val in n.args))
            step_of[j] = len(steps)
            steps.append(Step(n.func, tuple(args), dest, n.dtype, step_ok,
                              getattr(n, "issue", None)))
        leaves = sorted(leaf_map, key=leaf_map.get)
        return cls(steps, leaves, slots)

    def run(self, outs: list[np.ndarray], leaves: list[np.ndarray], jit: str) -> None:
        if outs[0].size:
            self.runner(outs[0].ndim, jit, outs[0].size)(outs, leaves)

    def runner(self, ndim: int, jit: str, size: int) -> Callable:
        """`run(outs, leaves)` for arrays of `ndim` dimensions, the choice between the
        compiled loop and blocked NumPy made once for a tile of `size` elements: for
        calls on many parts of one tile (inplace.py's chunks), only the call remains."""
        compile_it = jit != "off" and (jit == "always" or size >= JIT_MIN)
        whole = self.whole
        if whole is None or not compile_it or not 1 <= ndim <= 4:
            return lambda outs, leaves: self._run_blocked(
                outs, leaves, compile_it and bool(self.segments))
        stored = [self.steps[s].dest[1] for s in whole.stored]
        inputs = [k for _, k in whole.inputs]
        scalars = whole.scalars

        def run(outs, leaves):
            stored_arrays = [outs[k] for k in stored]
            inputs_arrays = [leaves[k] for k in inputs]
            same = _same_arrays(stored_arrays, inputs_arrays)
            arrays = stored_arrays + [a for a, j in zip(inputs_arrays, same) if j < 0]
            flat = _flat_args(arrays)
            source = self._source(ndim, flat is not None, same)
            fn = _compiled_source(source)
            if fn is not None:
                args = (*arrays, *scalars) if flat is None else (
                    *flat[:len(arrays)], *scalars, *flat[len(arrays):], *arrays[0].shape)
                try:
                    ieee_flags.run_compiled(fn, args, whole.members,
                                     lambda: self._recheck(outs, leaves))
                    return
                except Exception:  # noqa: BLE001 - compiling failed (before any write)
                    _compiled_cache[source] = None
            self._run_blocked(outs, leaves)
        return run

    def flat_call(self, outs: list[np.ndarray], leaves: list[np.ndarray], jit: str,
                  still: tuple[int, ...] = (), still_leaves: tuple[int, ...] = ()
                  ) -> FlatCall | None:
        """The compiled loop's call on these arrays (one tile's), flattened once so that
        rows of it can be run cheaply; None where the plan runs otherwise (blocked NumPy,
        a tile too small to compile, arrays a flat kernel cannot take). Outputs in `still`
        are scratch for one chunk: rows lo:hi of the tile go to their rows 0:hi-lo; leaves
        in `still_leaves` hold one chunk's values alike (inplace.py's scratch rows)."""
        whole, ndim = self.whole, outs[0].ndim
        if whole is None or jit == "off" or not 1 <= ndim <= 4 or (
                jit != "always" and max(o.size for o in outs) < JIT_MIN):
            return None
        out_index = [self.steps[s].dest[1] for s in whole.stored]
        stored = [outs[k] for k in out_index]
        inputs = [leaves[k] for _, k in whole.inputs]
        same = _same_arrays(stored, inputs)
        arrays = stored + [a for a, j in zip(inputs, same) if j < 0]
        flat = _flat_args(arrays)
        if flat is None:
            return None
        moving = [k not in still for k in out_index] + [
            k not in still_leaves for (_, k), j in zip(whole.inputs, same) if j < 0]
        return FlatCall(self._source(ndim, True, same), flat[:len(arrays)],
                        [a.strides[0] // a.itemsize if m else 0
                         for a, m in zip(arrays, moving)],
                        list(whole.scalars), flat[len(arrays):], arrays[0].shape[1:],
                        whole.members)

    def rows_runner(self, outs: list[np.ndarray], leaves: list[np.ndarray], jit: str,
                    still: tuple[int, ...] = (), still_leaves: tuple[int, ...] = ()
                    ) -> Callable[[int, int], None]:
        """`run(lo, hi)`: the plan on rows lo:hi of these arrays (one tile's), for running a
        tile chunk by chunk: the loop is chosen and its arguments flattened once. Outputs
        in `still` and leaves in `still_leaves` are one chunk's (see flat_call)."""
        run = self.runner(outs[0].ndim, jit, max(o.size for o in outs))

        def rows(lo: int, hi: int) -> tuple[list, list]:
            return ([o[:hi - lo] if k in still else o[lo:hi] for k, o in enumerate(outs)],
                    [a[:hi - lo] if k in still_leaves else a[lo:hi]
                     for k, a in enumerate(leaves)])

        def sliced(lo: int, hi: int) -> None:
            run(*rows(lo, hi))
        call = self.flat_call(outs, leaves, jit, still, still_leaves)
        fn = _compiled_source(call.source) if call is not None else None
        if fn is None:
            return sliced

        def run_rows(lo: int, hi: int) -> None:
            try:
                ieee_flags.run_compiled(fn, call.args(lo, hi), call.members,
                                 lambda: self._recheck(*rows(lo, hi)))
            except Exception:  # noqa: BLE001 - compiling failed (before any write)
                _compiled_cache[call.source] = None
                sliced(lo, hi)
        return run_rows

    def _recheck(self, outs: list[np.ndarray], leaves: list[np.ndarray]) -> bool:
        """Which steps raised the floating-point conditions a compiled run did: the
        steps again through NumPy (whose checks note them), into scratch; False where
        an output may share memory with a leaf (the leaf's old values are gone)."""
        if any(np.may_share_memory(o, a) for o in outs for a in leaves):
            return False
        self._run_blocked([np.empty_like(o) for o in outs], leaves)
        return True

    def _source(self, ndim: int, flat: bool, same: tuple[int, ...]) -> str:
        """The whole plan's kernel source, made once per plan and variant (every tile of
        a launch asks for it)."""
        key = (ndim, flat, same)
        if key not in self._sources:
            self._sources[key] = self.whole.source_for(self, ndim, "o", flat, same)
        return self._sources[key]

    # -- blocked NumPy ------------------------------------------------------------------

    def _run_blocked(self, outs, leaves, hybrid: bool = False) -> None:
        if outs[0].ndim == 0:  # blocks index with slices: give 0-d tiles an axis
            outs = [o.reshape(1) for o in outs]
            leaves = [a.reshape(1) for a in leaves]
        blocks, block_shape = _blocks(outs[0].shape)
        scratch = [np.empty(block_shape, dt) for dt in self.slots]
        # What runs, in order: a step index, or (segment, its compiled function).
        program: list = list(range(len(self.steps)))
        if hybrid:
            program = self._hybrid_program(len(block_shape))
        for b in blocks:
            if b[-1].stop - b[-1].start != block_shape[0]:
                # The last block along the cut axis is shorter.
                tmp = [t[:b[-1].stop - b[-1].start] for t in scratch]
            else:
                tmp = scratch
            values: list = [None] * len(self.steps)

            def dest(s, b=b, tmp=tmp, values=values):
                kind, k = self.steps[s].dest
                values[s] = outs[k][b] if kind == "out" else tmp[k]
                return values[s]

            def operand(kind, val, b=b, values=values):
                return leaves[val][b] if kind == "leaf" else values[val] \
                    if kind == "step" else val

            def run_step(s):
                st = self.steps[s]
                fpe.step(st.issue)  # NumPy's conditions now are this member's
                st.func.call(dest(s), *[operand(kind, val) for kind, val in st.args])

            for item in program:
                if isinstance(item, int):
                    run_step(item)
                    continue
                seg, fn, source = item
                try:
                    ieee_flags.run_compiled(fn, (*[dest(s) for s in seg.stored],
                                          *[operand(kind, val) for kind, val in seg.inputs],
                                          *seg.scalars), seg.members)
                except Exception:  # noqa: BLE001 - compiling failed (before any write)
                    _compiled_cache[source] = None
                    for s in seg.steps:
                        run_step(s)

    def _hybrid_program(self, ndim: int) -> list:
        """Steps and (compiled segment, function, source) in order (a segment that fails
        to compile runs as its steps); made once per ndim (tiles run in chunks ask often)."""
        program = self._programs.get(ndim)
        if program is None:
            program = self._programs[ndim] = self._make_hybrid_program(ndim)
        return program

    def _make_hybrid_program(self, ndim: int) -> list:
        program: list = []
        covered: dict[int, Segment] = {seg.steps[0]: seg for seg in self.segments}
        s = 0
        while s < len(self.steps):
            seg = covered.get(s)
            fn = source = None
            if seg is not None:
                source = seg.source_for(self, ndim)
                fn = _compiled_source(source)
            if fn is None:
                program.append(s)
                s += 1
                continue
            program.append((seg, fn, source))
            s = seg.steps[-1] + 1
        return program

def _operand_ok(kind: str, val, leaf_dtypes, steps, step_of) -> bool:
    """A node argument compiled code can read: a float or bool array, or a number."""
    if kind == "leaf":
        return leaf_dtypes[val] in _JIT_DTYPES
    if kind == "node":
        return steps[step_of[val]].dtype in _JIT_DTYPES
    return isinstance(val, (int, float, np.floating, np.integer))


def _blocks(shape: tuple[int, ...]):
    """Index tuples cutting `shape` into blocks of at most about BLOCK_ELEMENTS elements
    (integers for the leading axes, a slice along the first axis whose trailing extent
    fits), and the shape of a block."""
    nd = len(shape)
    k, inner = nd - 1, 1
    while k > 0 and inner * shape[k] <= BLOCK_ELEMENTS:
        inner *= shape[k]
        k -= 1
    step = min(shape[k], max(1, BLOCK_ELEMENTS // inner))
    outer = np.ndindex(*shape[:k]) if k else [()]
    blocks = [lead + (slice(i, min(i + step, shape[k])),)
              for lead in outer for i in range(0, shape[k], step)]
    return blocks, (step,) + tuple(shape[k + 1:])


# -- numba -----------------------------------------------------------------------------

_compile_lock = threading.Lock()
_compiled_cache: dict = {}
_numba = []


def _load_numba():
    if not _numba:
        try:
            import numba
        except ImportError:
            numba = None
        _numba.append(numba)
    return _numba[0]


def _compiled_source(source: str):
    """The compiled function of a kernel source (None without numba, or if it failed)."""
    try:
        return _compiled_cache[source]
    except KeyError:
        pass
    with trace.compiling(), _compile_lock:  # a profile shows compiling (and waiting) apart
        if source not in _compiled_cache:
            numba = _load_numba()
            fn = None
            if numba is not None:
                python_fn, cacheable = _define(source)
                fn = numba.njit(nogil=True, error_model="numpy", cache=cacheable)(python_fn)
            _compiled_cache[source] = fn
    return _compiled_cache[source]


def _define(source: str):
    """The Python function of a kernel's source, defined from a file in the kernel cache
    directory so that numba can cache its machine code across runs (False if that
    directory cannot be written: then defined in memory and compiled every run)."""
    name = "hpcarray_kernel_" + hashlib.sha1(source.encode()).hexdigest()[:20]
    directory = os.environ.get("HPCARRAY_KERNEL_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "hpcarray", "kernels")
    path = os.path.join(directory, name + ".py")
    text = "import numpy as np\n\n\n" + source
    try:
        if not os.path.exists(path):
            os.makedirs(directory, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)  # atomic: ranks sharing the directory never see half
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # numba's cached code refers to its module by name
        spec.loader.exec_module(module)
        return module.kernel, True
    except OSError:
        namespace = {"np": np}
        exec(compile(source, "<hpcarray fused kernel>", "exec"), namespace)
        return namespace["kernel"], False


def _loop_nest(params: list[str], body: list[str], extents: list[str],
               rows: list[str] = ()) -> str:
    """Source of `kernel(params)`: `body` inside loops i0, i1, ... over `extents`, with
    `rows` run before the innermost loop."""
    lines = [f"def kernel({', '.join(params)}):"]
    depth = len(extents)
    for d, n in enumerate(extents):
        if d == depth - 1:
            lines += ["    " * (d + 1) + line for line in rows]
        lines.append("    " * (d + 1) + f"for i{d} in range({n}):")
    lines += ["    " * (depth + 1) + line for line in body]
    return "\n".join(lines) + "\n"


def _same_arrays(stored: list[np.ndarray], inputs: list[np.ndarray]) -> tuple[int, ...]:
    """For each input, the index of the stored array that is the very same array (same
    first element, dtype, shape and strides), or -1 (see Segment.source_for)."""
    def owner(x: np.ndarray) -> np.ndarray:  # NumPy points a view's base at the owner
        return x if x.base is None else x.base

    found = []
    for a in inputs:
        j = -1
        for k, o in enumerate(stored):
            if (owner(a) is owner(o) and a.shape == o.shape and a.strides == o.strides
                    and a.dtype == o.dtype and a.__array_interface__["data"][0]
                    == o.__array_interface__["data"][0]):
                j = k
                break
        found.append(j)
    return tuple(found)


def _flat_args(arrays: list[np.ndarray]) -> list | None:
    """The arrays as a flat kernel takes them (see Segment.source_for): each a 1-D view
    from its first element to its last, then their strides in elements; None unless
    every array steps by one element along its last axis and forwards along the others."""
    flats, strides = [], []
    for a in arrays:
        size = a.itemsize
        st = a.strides
        if (st[-1] != size and a.shape[-1] > 1) or any(x < 0 or x % size for x in st):
            return None
        span = 1 + sum((n - 1) * x for n, x in zip(a.shape, st)) // size
        flats.append(as_strided(a, shape=(span,), strides=(size,)))
        strides += [x // size for x in st[:-1]]
    return flats + strides
