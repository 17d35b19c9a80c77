"""CUDA C sources for fused plans: the GPU twin of the numba sources of backend/cpu/kernels.py.

A plan (cpu/kernels.Plan: steps reading leaves, scalars and earlier steps, each writing
an output or a temporary) becomes one `extern "C" __global__` kernel over strided n-d
views, specialised per `Variant` (ndim, the arrays' dtypes, inputs that are an output's
very array, the index width). Temporaries live in registers: only outputs are stored.

Values follow NumPy: each operand is cast to the dtype the ufunc's loop computes in
(`Func.loop`, but `Func.keep` positions), the operation is done in it, and the result is
cast to the step's dtype. The IEEE operations (+ - * / sqrt) round as NumPy's do because
sources are compiled with contraction off (`--fmad=false`, COMPILE_OPTIONS); the
transcendentals are CUDA's libdevice ones (a few ulp from NumPy's, as CuPy's are). Signed
integer arithmetic wraps as NumPy's does (done in the unsigned type: overflow in C is
undefined). Known departures: float-to-integer casts of NaN or out-of-range values
saturate (CUDA) where NumPy gives INT_MIN; no floating-point error flags are reported.

This module is pure Python (no CuPy): the sources are checked with NVRTC where there is
no GPU (tests/runtime/test_cuda_codegen.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

# Options every source is compiled with (besides the architecture and include paths).
COMPILE_OPTIONS = ("--std=c++17", "--fmad=false")
# Threads per block (the last axis runs along x).
BLOCK = 256

_CTYPES = {
    "bool": "bool", "int8": "signed char", "uint8": "unsigned char", "int16": "short",
    "uint16": "unsigned short", "int32": "int", "uint32": "unsigned int",
    "int64": "long long", "uint64": "unsigned long long", "float32": "float",
    "float64": "double", "complex64": "complex<float>", "complex128": "complex<double>",
}
_UNSIGNED = {"int8": "unsigned char", "int16": "unsigned short", "int32": "unsigned int",
             "int64": "unsigned long long"}

# Device helpers the expressions use, where NumPy's definition is not C's.
PRELUDE = r"""
#include <cupy/complex.cuh>
#ifndef HPCARRAY_PRELUDE
#define HPCARRAY_PRELUDE
template <typename T> __device__ __forceinline__ T hpc_floordiv_i(T a, T b) {
    if (b == 0) return 0;  // NumPy: 0 (and a warning)
    if (b == -1) return (T)(0 - (unsigned long long)a);  // MIN // -1 wraps
    T q = a / b;
    return ((a % b != 0) && ((a < 0) != (b < 0))) ? q - 1 : q;
}
template <typename T> __device__ __forceinline__ T hpc_floordiv_u(T a, T b) {
    return b == 0 ? 0 : a / b;
}
template <typename T> __device__ __forceinline__ T hpc_mod_i(T a, T b) {
    if (b == 0 || b == -1) return 0;
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
template <typename T> __device__ __forceinline__ T hpc_mod_u(T a, T b) {
    return b == 0 ? 0 : a % b;
}
template <typename T> __device__ __forceinline__ T hpc_mod_f(T a, T b) {
    // npy_divmod's remainder: the sign of the divisor
    T m = fmod(a, b);
    if (b == 0) return m;
    if (m != 0) { if ((b < 0) != (m < 0)) m += b; }
    else m = copysign((T)0, b);
    return m;
}
template <typename T> __device__ __forceinline__ T hpc_floordiv_f(T a, T b) {
    // npy_divmod's quotient
    if (b == 0) return a / b;
    T m = fmod(a, b);
    T d = (a - m) / b;
    if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
    if (d == 0) return copysign((T)0, a / b);
    T f = floor(d);
    if (d - f > (T)0.5) f += 1;
    return f;
}
template <typename T> __device__ __forceinline__ T hpc_pow_i(T a, T b) {
    if (b < 0) return 0;  // NumPy raises before the loop for arrays
    T r = 1;
    while (b) { if (b & 1) r = (T)(r * a); a = (T)(a * a); b >>= 1; }
    return r;
}
template <typename T> __device__ __forceinline__ T hpc_lshift(T a, T b) {
    return (b < 0 || b >= (T)(8 * sizeof(T))) ? (T)0 : (T)(a << b);
}
template <typename T> __device__ __forceinline__ T hpc_rshift(T a, T b) {
    if (b < 0 || b >= (T)(8 * sizeof(T))) return a < 0 ? (T)-1 : (T)0;
    return (T)(a >> b);
}
template <typename T> __device__ __forceinline__ T hpc_max_f(T a, T b) {
    return (isnan(a) || a >= b) ? a : b;  // NaN propagates
}
template <typename T> __device__ __forceinline__ T hpc_min_f(T a, T b) {
    return (isnan(a) || a <= b) ? a : b;
}
template <typename T> __device__ __forceinline__ T hpc_sign_f(T a) {
    return a > 0 ? (T)1 : a < 0 ? (T)-1 : a == 0 ? (T)0 : a;
}
#endif
"""


def ctype(dtype: np.dtype) -> str | None:
    """The C type of a dtype (None: the generator does not handle it, e.g. float16)."""
    return _CTYPES.get(np.dtype(dtype).name)


def _kind(dtype: np.dtype) -> str:
    return np.dtype(dtype).kind  # b i u f c


def cast(value: str, src: np.dtype, dst: np.dtype) -> str:
    """`value` (a variable or array element: evaluated once or more) as dtype `dst`,
    with NumPy's unsafe-cast rules (complex to real takes the real part)."""
    src, dst = np.dtype(src), np.dtype(dst)
    if src == dst:
        return value
    if dst.kind == "b":
        if src.kind == "c":
            return f"({value}.real() != 0 || {value}.imag() != 0)"
        return f"({value} != 0)"
    if dst.kind == "c":
        base = ctype(np.empty(0, dst).real.dtype)
        if src.kind == "c":
            return f"{ctype(dst)}({value})"
        return f"{ctype(dst)}(({base})({value}))"
    if src.kind == "c":
        return f"(({ctype(dst)})({value}.real()))"
    return f"(({ctype(dst)})({value}))"


def _wrap(op: str, t: np.dtype, a: str, b: str) -> str:
    """Signed integer arithmetic that wraps (done in the unsigned type)."""
    u = _UNSIGNED.get(t.name)
    if u is None or t.itemsize < 4:  # narrower types promote to int: no overflow
        return f"(({ctype(t)})({a} {op} {b}))"
    return f"(({ctype(t)})(({u}){a} {op} ({u}){b}))"


_FLOAT_UNARY = {
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log", "log2": "log2",
    "log10": "log10", "log1p": "log1p", "sin": "sin", "cos": "cos", "tan": "tan",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "sqrt": "sqrt", "cbrt": "cbrt", "floor": "floor", "ceil": "ceil", "trunc": "trunc",
    "rint": "rint", "fabs": "fabs",
}
_COMPLEX_UNARY = {
    "exp": "exp", "log": "log", "log10": "log10", "sqrt": "sqrt", "sin": "sin",
    "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "conjugate": "conj",
}
_COMPARE = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
            "equal": "==", "not_equal": "!="}
_FLOAT_BINARY = {"power": "pow", "arctan2": "atan2", "hypot": "hypot", "fmod": "fmod",
                 "copysign": "copysign", "fmax": "fmax", "fmin": "fmin",
                 "maximum": "hpc_max_f", "minimum": "hpc_min_f",
                 "floor_divide": "hpc_floordiv_f", "remainder": "hpc_mod_f"}
_BITWISE = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}
_LOGICAL = {"logical_and": "&&", "logical_or": "||", "logical_xor": "!="}
_PREDICATES = {"isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite",
               "signbit": "signbit"}

# The ufuncs (by name) this generator computes: the backend's EXPRESSIONS (kernels.py)
# list them, so the front end resolves their loop dtype (Func.loop).
OPERATIONS = frozenset(
    ["add", "subtract", "multiply", "divide", "true_divide", "negative", "positive",
     "square", "absolute", "reciprocal", "sign", "invert", "left_shift", "right_shift",
     "logical_not", "where", "copy", "conjugate"]
    + list(_FLOAT_UNARY) + list(_COMPLEX_UNARY) + list(_COMPARE) + list(_FLOAT_BINARY)
    + list(_BITWISE) + list(_LOGICAL) + list(_PREDICATES))


def truth(value: str, dtype: np.dtype) -> str:
    return cast(value, dtype, np.dtype(bool))


# Float and complex arithmetic: the same C++ operators (CuPy's complex overloads them).
_ARITHMETIC = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
               "divide": "({0} / {1})", "true_divide": "({0} / {1})", "negative": "(-{0})",
               "square": "({0} * {0})"}


def expression(name: str, t: np.dtype, ops: list[str]) -> tuple[str, np.dtype] | None:
    """The operation `name` on operands `ops` already of loop dtype `t` (but `where`'s
    condition), and the dtype of its value; None where it is not generated here."""
    k = _kind(t)
    a = ops[0]
    b = ops[1] if len(ops) > 1 else None
    boolean = np.dtype(bool)
    if name in _COMPARE:
        if k == "c" and name not in ("equal", "not_equal"):
            return None  # NumPy orders complex lexicographically: not generated
        return f"({a} {_COMPARE[name]} {b})", boolean
    if name in _LOGICAL:
        return f"({truth(a, t)} {_LOGICAL[name]} {truth(b, t)})", boolean
    if name == "logical_not":
        return f"(!{truth(a, t)})", boolean
    if name in _PREDICATES:
        if k == "f":
            return f"{_PREDICATES[name]}({a})", boolean
        if k in "iub":
            value = {"isfinite": "true", "signbit": f"({a} < 0)"}.get(name, "false")
            return value, boolean
        if name in ("isnan", "isinf", "isfinite"):
            join = "&&" if name == "isfinite" else "||"
            return (f"({_PREDICATES[name]}({a}.real()) {join} "
                    f"{_PREDICATES[name]}({a}.imag()))", boolean)
        return None
    if name == "where":  # the condition comes as a truth value (source())
        return f"({a} ? {b} : {ops[2]})", t
    c = ctype(t)
    if name == "copy" or name == "positive" or (name == "conjugate" and k != "c"):
        return a, t
    if k == "b":
        # NumPy's boolean loops: + is or, * is and, max/min are or/and
        table = {"add": "||", "multiply": "&&", "maximum": "||", "minimum": "&&",
                 "bitwise_and": "&&", "bitwise_or": "||", "bitwise_xor": "!=",
                 "fmax": "||", "fmin": "&&"}
        if name in table:
            return f"({a} {table[name]} {b})", t
        if name in ("invert",):
            return f"(!{a})", t
        if name in ("absolute", "square"):
            return (a if name == "absolute" else f"({a} && {a})"), t
        return None
    if k in "iu":
        signed = k == "i"
        if name in ("add", "subtract", "multiply"):
            return _wrap({"add": "+", "subtract": "-", "multiply": "*"}[name], t, a, b), t
        if name == "square":
            return _wrap("*", t, a, a), t
        if name == "negative":
            return _wrap("-", t, "0", a), t
        if name == "absolute":
            return (f"(({c})({a} < 0 ? {_wrap('-', t, '0', a)} : {a}))" if signed else a), t
        if name == "sign":
            return f"(({c})(({a} > 0) - ({a} < 0)))", t
        if name in ("floor_divide", "remainder"):
            fn = ("hpc_floordiv_" if name == "floor_divide" else "hpc_mod_") + \
                ("i" if signed else "u")
            return f"{fn}<{c}>({a}, {b})", t
        if name == "power":
            return f"hpc_pow_i<{c}>({a}, {b})", t
        if name in ("maximum", "fmax"):
            return f"({a} >= {b} ? {a} : {b})", t
        if name in ("minimum", "fmin"):
            return f"({a} <= {b} ? {a} : {b})", t
        if name in _BITWISE:
            return f"(({c})({a} {_BITWISE[name]} {b}))", t
        if name == "invert":
            return f"(({c})(~{a}))", t
        if name == "left_shift":
            return f"hpc_lshift<{c}>({a}, {b})", t
        if name == "right_shift":
            return f"hpc_rshift<{c}>({a}, {b})", t
        return None
    if k in "fc" and name in _ARITHMETIC:  # the same operators on floats and complex
        return _ARITHMETIC[name].format(a, b), t
    if k == "f":
        if name == "absolute":
            return f"fabs({a})", t
        if name == "reciprocal":
            return f"(({c})1 / {a})", t
        if name == "sign":
            return f"hpc_sign_f<{c}>({a})", t
        if name in _FLOAT_UNARY:
            return f"{_FLOAT_UNARY[name]}({a})", t
        if name in _FLOAT_BINARY:
            fn = _FLOAT_BINARY[name]
            fn = f"{fn}<{c}>" if fn.startswith("hpc_") else fn
            return f"{fn}({a}, {b})", t
        return None
    if k == "c":
        if name == "absolute":
            return f"abs({a})", np.empty(0, t).real.dtype
        if name == "reciprocal":
            return f"({c}(1) / {a})", t
        if name == "power":
            return f"pow({a}, {b})", t
        if name in _COMPLEX_UNARY:
            return f"{_COMPLEX_UNARY[name]}({a})", t
        return None
    return None


def operation_of(func) -> str | None:
    """The operation a fusion Func computes: a copy (any copy_func: assign, astype, the
    joins), or the ufunc of its name."""
    if func.jit == "{0}" and func.name not in OPERATIONS:
        return "copy"
    return func.name if func.name in OPERATIONS else None


@dataclass(frozen=True)
class Variant:
    """What one source is specialised for. `ndim` -1: every array is C-contiguous with
    the outputs' shape (one flat index). `same[k] = j >= 0`: leaf k is stored output j's
    very array (read through it, `x += y`)."""

    ndim: int
    outs: tuple[np.dtype, ...]
    leaves: tuple[np.dtype, ...]
    same: tuple[int, ...]
    index: str = "int"  # "int" where every offset fits 31 bits, else "long long"


def scalar_dtypes(plan) -> list[np.dtype]:
    """The kernel argument dtype of each scalar, in the order the steps read them: the
    loop's, or the value's own at `keep` positions (where's condition)."""
    out = []
    for st in plan.steps:
        for pos, (kind, val) in enumerate(st.args):
            if kind == "scalar":
                out.append(_value_dtype(val) if pos in st.func.keep else np.dtype(st.func.loop))
    return out


def _value_dtype(val) -> np.dtype:
    if isinstance(val, np.generic):
        return val.dtype
    return np.asarray(val).dtype


def source(plan, v: Variant) -> str | None:
    """The kernel's CUDA C source (its name is kernel_name(source)); None where a step is
    one the generator does not compute (the backend then runs the steps one by one)."""
    stored = list(v.outs)
    leaf_dtypes = list(v.leaves)
    if any(ctype(d) is None for d in stored + leaf_dtypes):
        return None
    scalars = scalar_dtypes(plan)
    if any(ctype(d) is None for d in scalars):
        return None
    idx = v.index
    arrays = [f"o{k}" for k in range(len(stored))] + \
        [f"a{k}" for k, j in enumerate(v.same) if j < 0]
    params = [f"{ctype(d)}* __restrict__ o{k}" for k, d in enumerate(stored)]
    params += [f"const {ctype(d)}* __restrict__ a{k}"
               for k, (d, j) in enumerate(zip(leaf_dtypes, v.same)) if j < 0]
    params += [f"const {ctype(d)} s{k}" for k, d in enumerate(scalars)]
    nd = v.ndim
    if nd == -1:
        params.append("const long long n")
    else:
        params += [f"const long long n{d}" for d in range(nd)]
        params += [f"const long long {x}_s{d}" for x in arrays for d in range(nd)]

    def ref(x: str) -> str:
        if nd == -1:
            return f"{x}[c]"
        if nd == 0:
            return f"{x}[0]"
        last = f"c * ({idx}){x}_s{nd - 1}"
        return f"{x}[{last}]" if nd == 1 else f"{x}[b_{x} + {last}]"

    leaf_ref = {k: ref(f"o{j}" if j >= 0 else f"a{k}") for k, j in enumerate(v.same)}
    body: list[str] = []
    values: dict[int, np.dtype] = {}
    nscalar = 0
    for s, st in enumerate(plan.steps):
        name = operation_of(st.func)
        if name is None:
            return None
        loop = np.dtype(st.func.loop)
        if ctype(loop) is None or ctype(st.dtype) is None:
            return None
        operands: list[str] = []
        for pos, (kind, val) in enumerate(st.args):
            if kind == "scalar":
                text, dt = f"s{nscalar}", scalars[nscalar]
                nscalar += 1
            elif kind == "leaf":
                text, dt = leaf_ref[val], leaf_dtypes[val]
            else:
                text, dt = f"v{val}", values[val]
            if pos in st.func.keep:  # where's condition: read as it is
                operands.append(truth(text, dt))
            else:
                operands.append(cast(text, dt, loop))
        found = expression(name, loop, operands)
        if found is None:
            return None
        text, dt = found
        out = np.dtype(st.dtype)
        body.append(f"const {ctype(out)} v{s} = {cast(text, dt, out)};")
        values[s] = out
        if st.dest[0] == "out":
            body.append(f"{ref(f'o{st.dest[1]}')} = v{s};")
    return _assemble(params, body, nd, idx, arrays)


def _assemble(params: list[str], body: list[str], nd: int, idx: str,
              arrays: list[str]) -> str:
    """The kernel text around `body`: a grid-stride loop over the last axis (x) inside
    one over the rows of the leading axes (y), so that indices need no division for
    2-d views and a row's offsets are computed once."""
    inner = "\n".join("        " + line for line in body)
    if nd == 0:
        loops = "    if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0) {\n" \
            + inner + "\n    }"
    elif nd == -1 or nd == 1:
        n = "n" if nd == -1 else "n0"
        loops = (f"    for ({idx} c = ({idx})blockIdx.x * blockDim.x + threadIdx.x; "
                 f"c < ({idx}){n}; c += ({idx})blockDim.x * gridDim.x) {{\n"
                 + inner + "\n    }")
    else:
        rows = " * ".join(f"({idx})n{d}" for d in range(nd - 1))
        split = [f"        {idx} r = row;"]
        for d in range(nd - 2, 0, -1):
            split.append(f"        const {idx} i{d} = r % ({idx})n{d}; r /= ({idx})n{d};")
        split.append(f"        const {idx} i0 = r;")
        for x in arrays:
            terms = " + ".join(f"i{d} * ({idx}){x}_s{d}" for d in range(nd - 1))
            split.append(f"        const {idx} b_{x} = {terms};")
        inner = "\n".join("    " + line for line in inner.split("\n"))
        loops = (f"    const {idx} rows = {rows};\n"
                 f"    for ({idx} row = blockIdx.y; row < rows; row += gridDim.y) {{\n"
                 + "\n".join(split) + "\n"
                 f"        for ({idx} c = ({idx})blockIdx.x * blockDim.x + threadIdx.x; "
                 f"c < ({idx})n{nd - 1}; c += ({idx})blockDim.x * gridDim.x) {{\n"
                 + inner + "\n        }\n    }")
    signature = ",\n    ".join(params)
    text = f"(\n    {signature})\n{{\n{loops}\n}}\n"
    return (PRELUDE + f'\nextern "C" __global__ void __launch_bounds__({BLOCK}) '
            f"{kernel_name(text)}" + text)


def kernel_name(text: str) -> str:
    """A kernel's name: a hash of its text (a source per plan and variant, cached)."""
    return "hpcarray_" + hashlib.sha1(text.encode()).hexdigest()[:20]


def name_of(src: str) -> str:
    """The kernel name in a source made by `source`."""
    return src[src.index("hpcarray_", src.index("__global__")):].split("(", 1)[0]


def variant(plan, outs: list, leaves: list) -> Variant:
    """The variant for one call on these arrays (NumPy or CuPy: shape, strides, dtype,
    and the data pointer through `_pointer`)."""
    stored = [outs[plan.steps[s].dest[1]] for s in range(len(plan.steps))
              if plan.steps[s].dest[0] == "out"]
    same = tuple(_same(a, stored) for a in leaves)
    arrays = stored + [a for a, j in zip(leaves, same) if j < 0]
    shape = stored[0].shape
    contiguous = all(a.shape == shape and _c_contiguous(a) for a in arrays)
    ndim = len(shape) if not contiguous or not shape else -1
    wide = any(_span(a) >= (1 << 31) for a in arrays)
    return Variant(ndim, tuple(a.dtype for a in stored), tuple(a.dtype for a in leaves),
                   same, "long long" if wide else "int")


def _same(a, stored: list) -> int:
    for j, o in enumerate(stored):
        if (a.shape == o.shape and a.strides == o.strides and a.dtype == o.dtype
                and _pointer(a) == _pointer(o)):
            return j
    return -1


def _pointer(a) -> int:
    data = getattr(a, "data", None)
    ptr = getattr(data, "ptr", None)  # CuPy
    return ptr if ptr is not None else a.__array_interface__["data"][0]


def _c_contiguous(a) -> bool:
    return bool(a.flags.c_contiguous)


def _span(a) -> int:
    """Elements between an array's first and last (the largest offset a kernel forms)."""
    return max(a.size, sum((n - 1) * abs(s) // a.itemsize for n, s in zip(a.shape, a.strides))
               + 1)


def strides(a) -> list[int]:
    """An array's strides in elements (broadcast axes: 0)."""
    return [s // a.itemsize for s in a.strides]
