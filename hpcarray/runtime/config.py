"""Typed runtime settings, read once: explicit > HPCARRAY_* environment > default.

Every setting the runtime reads lives here, so there is one place to look, and one place
that checks values: a bad one is a SettingError naming the variable and the value, raised
by `hpcarray run` before anything starts (one line, exit 2) and by `import hpcarray`
under `python script.py`, never later deep in the runtime.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# More worker threads than this per rank is a typo, not a machine.
MAX_WORKERS = 1024


class SettingError(ValueError):
    """An HPCARRAY_* setting with a bad value."""

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(f"{name}={value!r}: {reason}")
        self.name, self.value, self.reason = name, value, reason


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(f"not a boolean (use one of {', '.join(_TRUE + _FALSE)})")


def _integer(low: int, high: int | None = None) -> Callable[[str], int]:
    span = f"from {low} to {high}" if high is not None else f"at least {low}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"not an integer (must be {span})") from None
        if value < low or (high is not None and value > high):
            raise ValueError(f"must be {span}")
        return value

    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return value

    return parse


def writable_directory(path: str) -> str:
    """`path` made absolute, created if missing; ValueError unless files can be written
    there (a profile is written at exit: finding out then loses the run's trace)."""
    path = os.path.abspath(path)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise ValueError(f"cannot write there ({err.strerror or err})") from None
    return path


# Settings field -> (environment variable, parser). Unset or empty variables: the default.
_FROM_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "workers": ("HPCARRAY_WORKERS", _integer(1, MAX_WORKERS)),
    "min_split_elements": ("HPCARRAY_MIN_SPLIT", _integer(1)),
    "test_mode": ("HPCARRAY_TEST", _boolean),
    "test_tiles": ("HPCARRAY_TEST_TILES", _integer(2)),
    "window_tasks": ("HPCARRAY_WINDOW", _integer(1)),
    "window_bytes": ("HPCARRAY_WINDOW_BYTES", _integer(1)),
    "eager": ("HPCARRAY_EAGER", _boolean),
    "profile_dir": ("HPCARRAY_PROFILE", writable_directory),
    "dataflow": ("HPCARRAY_DATAFLOW", _boolean),
    "event_graph": ("HPCARRAY_EVENT", _boolean),
    "nvtx": ("HPCARRAY_NVTX", _boolean),
    "fusion": ("HPCARRAY_FUSION", _boolean),
    "jit": ("HPCARRAY_JIT", _choice("auto", "always", "off")),
    "pool_bytes": ("HPCARRAY_POOL_BYTES", _integer(-1)),
    "switch_interval_us": ("HPCARRAY_SWITCH_INTERVAL_US", _integer(0)),
    "blas_threads": ("HPCARRAY_BLAS_THREADS", _integer(1)),
    "check_spmd": ("HPCARRAY_CHECK_SPMD", _boolean),
    "stall_seconds": ("HPCARRAY_STALL_SECONDS", _integer(0)),
    "print_all_ranks": ("HPCARRAY_PRINT_ALL_RANKS", _boolean),
    "backend": ("HPCARRAY_BACKEND", _choice("cpu", "cupy", "auto")),
    "gpu_memory_bytes": ("HPCARRAY_GPU_MEMORY", _integer(0)),
}


_PARSERS = dict(_FROM_ENV.values())
# The HPCARRAY_* variables read here.
SETTINGS = frozenset(_PARSERS)


def parse_setting(name: str, text: str) -> Any:
    """The value of the HPCARRAY_* variable `name` set to `text`, or SettingError."""
    try:
        return _PARSERS[name](text)
    except ValueError as err:
        raise SettingError(name, text, str(err)) from None


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Use `Settings.from_env()`; override with `dataclasses.replace`."""

    # Worker threads per rank that run point tasks.
    workers: int = 1
    # Arrays with fewer elements than this are not split into tiles (one tile, fast path).
    min_split_elements: int = 1 << 18
    # Test mode: split every array with 2+ elements into several small, uneven tiles.
    test_mode: bool = False
    # Tiles per array in test mode (an odd number, so tiles come out uneven).
    test_tiles: int = 5
    # Deferred window: Python blocks when more point tasks than this are pending.
    window_tasks: int = 256
    # ... or when pending tasks write more bytes than this (bounds live temporaries: CFD at
    # N=1000 peaked at 530 MB with 256 MiB, 325 MB with 64 MiB, at the same speed).
    window_bytes: int = 1 << 26
    # Run every task on the calling thread at once (debugging aid).
    eager: bool = False
    # Trace recording (for --profile, --dataflow, --event) and where to write it.
    profile_dir: str | None = None
    dataflow: bool = False
    event_graph: bool = False
    # NVTX ranges around tasks and copies.
    nvtx: bool = False
    # Fuse chains of elementwise operations into one kernel per tile.
    fusion: bool = True
    # Compile fused kernels with numba: "auto" (big tiles, when numba is installed),
    # "always" (every eligible tile: tests) or "off".
    jit: str = "auto"
    # Bytes of dead stores' buffers kept for reuse (-1: a quarter of memory / ranks; 0: off).
    pool_bytes: int = -1
    # Multi-rank: Python's GIL switch interval (0: leave Python's 5 ms). The progress and
    # worker threads need the GIL for a moment per message and task; at 5 ms a busy main
    # thread delays each halo by milliseconds. (Threads alone showed no gain from it.)
    switch_interval_us: int = 200
    # BLAS threads per rank (None: cores / (workers x ranks on the node); _api/linalg.py).
    blas_threads: int | None = None
    # Multi-rank: check that every rank issues the same operations (runtime/spmd.py).
    check_spmd: bool = False
    # Multi-rank: a job whose every rank has waited this long with nothing to do (a
    # deadlock: ranks that took different paths) ends naming each rank's line (stall.py);
    # 0: wait forever.
    stall_seconds: int = 60
    # Multi-rank: every rank prints (default: only rank 0's stdout).
    print_all_ranks: bool = False
    # Where tile memory and kernels live (runtime/backend/): "cpu", "cupy" (one GPU per
    # rank) or "auto" (CuPy where the rank sees a GPU, else cpu with a one-line notice).
    backend: str = "cpu"
    # The GPU backend's memory pool limit in bytes (0: 90 % of the GPU's memory).
    gpu_memory_bytes: int = 0

    @property
    def tracing(self) -> bool:
        return self.profile_dir is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from HPCARRAY_* variables (of `environ`, default os.environ); a bad
        value raises SettingError. A profile directory is created if missing."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"workers": _cpu_count()}
        for field, (name, _) in _FROM_ENV.items():
            text = env.get(name)
            if text:
                values[field] = parse_setting(name, text)
        if (values.get("dataflow") or values.get("event_graph")) and "profile_dir" not in values:
            values["profile_dir"] = parse_setting("HPCARRAY_PROFILE", "hpcarray_prof")
        return cls(**values)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)


def check_at_import() -> None:
    """`import hpcarray`: a bad HPCARRAY_* value fails here, naming it, not at the first
    operation deep in the runtime. Not in the `hpcarray` command (or `python -m
    hpcarray.X`): it checks the settings itself and reports a bad one in one line."""
    argv0 = (getattr(sys, "argv", None) or [""])[0]
    if argv0 == "-m" or os.path.basename(argv0) == "hpcarray":
        return
    try:
        Settings.from_env()
    except SettingError as err:
        raise err.with_traceback(None) from None
