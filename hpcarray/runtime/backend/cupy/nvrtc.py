"""Compiling generated sources with NVRTC alone: no GPU and no driver needed (CuPy's
wheel and the `nvidia-cuda-nvrtc` wheel are enough). The tests check every source the
generator emits this way; the backend compiles through CuPy's RawKernel with the same
options (include_options)."""

from __future__ import annotations

import os

from hpcarray.runtime.backend.cupy.codegen import COMPILE_OPTIONS


class CompileError(RuntimeError):
    pass


def include_options() -> tuple[str, ...]:
    """-I options for <cupy/complex.cuh> and the CCCL headers it includes."""
    import cupy
    from cupy._core import core

    root = os.path.join(os.path.dirname(cupy.__file__), "_core", "include")
    return (f"-I{root}", *core._get_cccl_include_options())


def compile_ptx(source: str, arch: str, name: str = "kernel.cu") -> bytes:
    """The PTX of `source` for `arch` (e.g. "sm_80"); CompileError with NVRTC's log."""
    from cupy_backends.cuda.libs import nvrtc

    prog = nvrtc.createProgram(source, name, [], [])
    try:
        try:
            nvrtc.compileProgram(prog, [f"--gpu-architecture={arch}", *COMPILE_OPTIONS,
                                        *include_options()])
        except nvrtc.NVRTCError as err:
            raise CompileError(f"{err}\n{nvrtc.getProgramLog(prog)}") from None
        return nvrtc.getPTX(prog)
    finally:
        nvrtc.destroyProgram(prog)


def version() -> tuple[int, int]:
    from cupy_backends.cuda.libs import nvrtc

    return nvrtc.getVersion()
