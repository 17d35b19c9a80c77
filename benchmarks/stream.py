"""STREAM-style memory bandwidth with NumPy: copy, scale, add and triad.

Arrays are preallocated and every kernel writes into them (``np.copyto``,
``np.multiply(..., out=)``, ``np.add(..., out=)``); the best of several repetitions counts.
Run with one thread and with one thread per core (each thread streams a contiguous slice;
NumPy releases the GIL inside these loops). Bytes are counted STREAM's way (reads plus
writes, no write-allocate traffic). NumPy's triad needs two passes, so it moves 40 bytes
per element, not 24.

``python -m benchmarks.stream [--elements N] [--reps R]`` prints the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SCALAR = 3.0


def _kernels() -> dict[str, tuple[int, Callable[[np.ndarray, np.ndarray, np.ndarray], None]]]:
    """name -> (bytes per element, kernel(a, b, c) writing into a)."""

    def copy(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
        np.copyto(a, b)

    def scale(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
        np.multiply(b, SCALAR, out=a)

    def add(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
        np.add(b, c, out=a)

    def triad(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
        np.multiply(c, SCALAR, out=a)
        np.add(a, b, out=a)

    return {"copy": (16, copy), "scale": (16, scale), "add": (24, add), "triad": (40, triad)}


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def measure(elements: int = 1 << 25, reps: int = 5, threads: int = 1) -> dict[str, float]:
    """Best bandwidth in GB/s (1e9 bytes/s) of each kernel."""
    a = np.zeros(elements)
    b = np.full(elements, 1.0)
    c = np.full(elements, 2.0)
    bounds = np.linspace(0, elements, threads + 1).astype(int)
    slices = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    results: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for name, (nbytes, kernel) in _kernels().items():
            def part(s: slice, kernel=kernel) -> None:
                kernel(a[s], b[s], c[s])

            best = float("inf")
            for _ in range(reps + 1):  # the first pass faults the pages in
                start = time.perf_counter()
                if threads == 1:
                    kernel(a, b, c)
                else:
                    list(pool.map(part, slices))
                best = min(best, time.perf_counter() - start)
            results[name] = nbytes * elements / best / 1e9
    return results


def run(elements: int, reps: int) -> dict[str, object]:
    """Measure with one thread and with all cores; ``best_gbs`` is the roofline."""
    threads = cpu_count()
    single = measure(elements, reps, 1)
    multi = measure(elements, reps, threads) if threads > 1 else dict(single)
    return {
        "elements": elements,
        "array_mib": elements * 8 / 2**20,
        "reps": reps,
        "threads": threads,
        "single_thread_gbs": single,
        "all_cores_gbs": multi,
        "best_gbs": max(max(single.values()), max(multi.values())),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1 << 25)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.elements, args.reps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
