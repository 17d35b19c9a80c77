"""Sharded .npy I/O: write and read one large float64 array with ``np.save``/``np.load``,
NumPy against hpcarray at 1 and more ranks, in GB/s (1e9 bytes per second).

``python -m benchmarks.io [--gib 4] [--ranks 1,2] [--dir DIR] [--reps 3]`` runs NumPy in
one process and hpcarray under ``hpcarray run -n K`` for each K, fresh processes each, and
prints one Markdown table. Each round writes the array (``write``: until ``save`` returns,
the data in the page cache; ``+fsync``: until it is on the disk as well), then reads it
back (``read``: from the page cache, warm after the write) and checks a value; the best
round counts. The file goes to DIR (default: the temporary directory) and is removed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

COLUMNS = 1024  # elements per row: an array of rows x 1024 float64


def measure(package: str, gib: float, folder: str, reps: int = 3) -> dict[str, float]:
    """Best GB/s over `reps` rounds of save, save + fsync, and load of a `gib` GiB float64
    array."""
    if package == "numpy":
        import numpy as np

        def sync() -> None:
            pass
    else:
        import hpcarray as np

        sync = np.sync
    rows = max(int(gib * 2**30) // (8 * COLUMNS), 1)
    a = np.full((rows, COLUMNS), 1.5)
    a[-1, -1] = 2.5
    sync()
    nbytes = rows * COLUMNS * 8
    path = os.path.join(folder, f"bench-io-{os.getppid()}.npy")
    best = {"write": 0.0, "write+fsync": 0.0, "read": 0.0}
    try:
        for _ in range(reps):
            start = time.perf_counter()
            np.save(path, a)
            written = time.perf_counter()
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            synced = time.perf_counter()
            start_read = time.perf_counter()
            b = np.load(path)
            sync()
            read = time.perf_counter()
            assert float(b[-1, -1]) == 2.5 and float(b[0, 0]) == 1.5
            del b
            for name, seconds in (("write", written - start), ("write+fsync", synced - start),
                                  ("read", read - start_read)):
                best[name] = max(best[name], nbytes / seconds / 1e9)
    finally:
        sync()  # every rank is done with the file
        if os.environ.get("PMI_RANK", "0") == "0":
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    return best


def _child(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", choices=("numpy", "hpcarray"), default="numpy")
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    for name, value in measure(args.package, args.gib, args.dir, args.reps).items():
        print(f"{name}_GBps: {value:.3f}")
    return 0


def _run(variant: str, ranks: int | None, gib: float, folder: str,
         reps: int) -> dict[str, float]:
    script = [str(Path(__file__).resolve()), "--child", "--gib", str(gib), "--dir", folder,
              "--reps", str(reps)]
    if ranks is None:
        cmd = [sys.executable, *script, "--package", "numpy"]
    else:
        cmd = [sys.executable, "-m", "hpcarray.cli", "run", "-n", str(ranks), *script,
               "--package", "hpcarray"]
    env = {k: v for k, v in os.environ.items() if k != "HPCARRAY_RUN"}
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.stderr.write(f"{variant}: failed\n{r.stderr[-2000:]}\n")
        return {}
    out = {}
    for line in r.stdout.splitlines():
        if "_GBps:" in line:
            name, value = line.split("_GBps:")
            out[name.strip()] = float(value)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--child" in argv:
        argv.remove("--child")
        return _child(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=4.0, help="array size in GiB")
    parser.add_argument("--ranks", default="1,2", help="hpcarray rank counts")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the file goes")
    parser.add_argument("--reps", type=int, default=3, help="rounds; the best counts")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    variants = [("numpy", None)] + [(f"hpcarray-n{k}", int(k))
                                    for k in args.ranks.split(",") if k.strip()]
    print(f"np.save / np.load of a {args.gib:g} GiB float64 array, GB/s\n")
    print("| variant | write | write+fsync | read |\n| --- | --- | --- | --- |")
    for name, ranks in variants:
        res = _run(name, ranks, args.gib, args.dir, args.reps)
        cells = [f"{res[k]:.2f}" if k in res else "n/a" for k in ("write", "write+fsync",
                                                                    "read")]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
