"""Per-operation overhead: a loop of elementwise operations on a small array.

``python -m benchmarks.micro --package numpy|hpcarray [--ops 10000] [--shape 100]`` runs
``ops`` additions/subtractions on a shape x shape float64 array (after a short warm-up),
waits for the results, and prints ``per_op_us: <microseconds per operation>``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from benchmarks.programs import EXAMPLES


def overhead(package: str, ops: int = 10_000, shape: int = 100) -> tuple[float, float]:
    """(microseconds per operation, checksum) for ``ops`` elementwise operations."""
    sys.path.insert(0, str(EXAMPLES))
    from _common import load_package, sync

    np = load_package(package)
    x = np.ones((shape, shape))
    y = np.ones((shape, shape)) * 0.5

    def loop(count: int, x):
        for i in range(count):
            x = x + y if i % 2 == 0 else x - y
        return x

    (x,) = sync(package, np, [loop(100, x)])
    start = time.perf_counter()
    (x,) = sync(package, np, [loop(ops, x)])
    elapsed = time.perf_counter() - start
    return elapsed / ops * 1e6, float(np.sum(x))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", choices=("numpy", "hpcarray"), default="numpy")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--shape", type=int, default=100)
    args = parser.parse_args(argv)
    per_op, checksum = overhead(args.package, args.ops, args.shape)
    print(f"checksum: {checksum!r}")
    print(f"per_op_us: {per_op:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
