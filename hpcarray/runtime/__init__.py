"""The task runtime: stores, tiling, dependence analysis, scheduling, tracing."""

from hpcarray.runtime.core import Runtime, get_runtime, reset_runtime

__all__ = ["Runtime", "get_runtime", "reset_runtime"]
