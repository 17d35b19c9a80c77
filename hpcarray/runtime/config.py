"""Typed runtime settings, read once: explicit > HPCARRAY_* environment > default.

Every setting the runtime reads lives here, so there is one place to look.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


def _env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


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
    # Where tile memory and kernels live (runtime/backend/): "cpu".
    backend: str = "cpu"

    @property
    def tracing(self) -> bool:
        return self.profile_dir is not None

    @classmethod
    def from_env(cls) -> Settings:
        test_mode = _env_bool("HPCARRAY_TEST")
        profile_dir = os.environ.get("HPCARRAY_PROFILE") or None
        dataflow = _env_bool("HPCARRAY_DATAFLOW")
        event = _env_bool("HPCARRAY_EVENT")
        if (dataflow or event) and profile_dir is None:
            profile_dir = "hpcarray_prof"
        return cls(
            workers=max(1, _env_int("HPCARRAY_WORKERS", _cpu_count())),
            min_split_elements=_env_int("HPCARRAY_MIN_SPLIT", 1 << 18),
            test_mode=test_mode,
            test_tiles=max(2, _env_int("HPCARRAY_TEST_TILES", 5)),
            window_tasks=max(8, _env_int("HPCARRAY_WINDOW", 256)),
            window_bytes=max(1 << 20, _env_int("HPCARRAY_WINDOW_BYTES", 1 << 26)),
            eager=_env_bool("HPCARRAY_EAGER"),
            profile_dir=profile_dir,
            dataflow=dataflow,
            event_graph=event,
            nvtx=_env_bool("HPCARRAY_NVTX"),
            fusion=_env_bool("HPCARRAY_FUSION", True),
            pool_bytes=_env_int("HPCARRAY_POOL_BYTES", -1),
            switch_interval_us=max(0, _env_int("HPCARRAY_SWITCH_INTERVAL_US", 200)),
            jit=_env_choice("HPCARRAY_JIT", ("auto", "always", "off"), "auto"),
            backend=_env_choice("HPCARRAY_BACKEND", ("cpu",), "cpu"),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)
