"""Shared plumbing for the example programs: arguments, package import, timing, output.

Every example is a plain NumPy program that receives its array module as ``np``. This
module decides which module that is (``--package numpy|hpcarray|dask``), times the compute
loop and prints the two lines the tests and benchmarks read::

    checksum: <float, repr precision>
    time: <seconds of the timed loop>

Under ``hpcarray run`` (which sets ``HPCARRAY_RUN``) the default package is hpcarray;
otherwise it is numpy.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PACKAGES = ("numpy", "hpcarray", "dask")


def default_package() -> str:
    """hpcarray when launched by ``hpcarray run`` (HPCARRAY_RUN set), numpy otherwise."""
    return "hpcarray" if os.environ.get("HPCARRAY_RUN") else "numpy"


class _DaskRandom:
    """``np.random`` for dask: draw with NumPy's seeded stream, then chunk with dask.

    Drawing with NumPy keeps checksums identical to the NumPy run.
    """

    def __init__(self, da: types.ModuleType) -> None:
        import numpy

        self._da = da
        self._rng = numpy.random

    def seed(self, seed: int) -> None:
        self._rng.seed(seed)

    def rand(self, *shape: int) -> Any:
        return self._da.from_array(self._rng.rand(*shape), chunks="auto")

    def randn(self, *shape: int) -> Any:
        return self._da.from_array(self._rng.randn(*shape), chunks="auto")


class DaskNamespace:
    """dask.array dressed as ``np``: dask's functions, NumPy's constants, seeded random."""

    def __init__(self) -> None:
        import dask.array as da

        self._da = da
        self.random = _DaskRandom(da)

    def concatenate(self, arrays: Sequence[Any], axis: int = 0) -> Any:
        """Concatenate, then return to regular chunks.

        Joining slices leaves thin chunks at the seams; in an iterative loop they would
        multiply every step, so the result is rechunked to dask's automatic chunking.
        """
        return self._da.concatenate(arrays, axis=axis).rechunk("auto")

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._da, name)
        except AttributeError:
            import numpy

            return getattr(numpy, name)


def load_package(name: str, chunk_mb: float | None = None) -> Any:
    """Return the array module used as ``np`` for package ``name``."""
    if name == "numpy":
        import numpy

        return numpy
    if name == "hpcarray":
        return importlib.import_module("hpcarray")
    if name == "dask":
        import dask

        config: dict[str, Any] = {"scheduler": "threads"}
        if chunk_mb is not None:
            config["array.chunk-size"] = f"{int(chunk_mb * 2**20)}B"
        dask.config.set(config)
        return DaskNamespace()
    raise ValueError(f"unknown package {name!r}; choose from {', '.join(PACKAGES)}")


def sync(package: str, np: Any, arrays: Sequence[Any]) -> tuple[Any, ...]:
    """Finish all pending work on ``arrays``; return them (dask returns persisted copies).

    numpy is eager. dask persists the arrays with the threaded scheduler. hpcarray is
    deferred: ``hpcarray.sync()`` waits until every operation issued so far has run.
    """
    arrays = tuple(arrays)
    if package == "dask":
        import dask

        return tuple(dask.persist(*arrays))
    if package == "hpcarray":
        np.sync()
    return arrays


def build_parser(description: str | None, size: int, iters: int) -> argparse.ArgumentParser:
    """The command line every example shares; examples may add their own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--package", choices=PACKAGES, default=default_package(),
                        help="array module used as np (default: %(default)s)")
    parser.add_argument("-n", "--size", type=int, default=size,
                        help="problem size (default: %(default)s)")
    parser.add_argument("--iters", type=int, default=iters,
                        help="timed iterations (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed iterations before the timed loop (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--chunk-mb", type=float, default=None,
                        help="dask only: target chunk size in MiB (default: dask's)")
    return parser


@dataclass
class Example:
    """One run of an example: its arguments, its ``np``, and the timed loop."""

    args: argparse.Namespace
    np: Any
    elapsed: float = 0.0

    @classmethod
    def from_argv(
        cls,
        description: str | None,
        size: int,
        iters: int,
        argv: Sequence[str] | None = None,
        extra: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> Example:
        parser = build_parser(description, size, iters)
        if extra is not None:
            extra(parser)
        args = parser.parse_args(argv)
        return cls(args=args, np=load_package(args.package, args.chunk_mb))

    @property
    def package(self) -> str:
        return str(self.args.package)

    @property
    def is_dask(self) -> bool:
        return self.package == "dask"

    def sync(self, *arrays: Any) -> tuple[Any, ...]:
        return sync(self.package, self.np, arrays)

    def run(self, step: Callable[..., Any], *state: Any) -> tuple[Any, ...]:
        """Run ``state = step(*state)`` warmup + iters times; time the iters only.

        ``step`` returns the new state as a tuple (or None when it updates in place). Every
        step is finished before the next, as NumPy's are: dask persists the state (its task
        graph stays small), hpcarray syncs.
        """

        def advance(current: tuple[Any, ...]) -> tuple[Any, ...]:
            new = step(*current)
            if new is None:
                new = current
            elif not isinstance(new, tuple):
                new = (new,)
            if self.package in ("dask", "hpcarray"):
                # Finish this step's work, as NumPy does. hpcarray skips results nobody
                # reads, so a step whose results the next one replaces might otherwise
                # never be computed, which NumPy and Dask are not spared: the comparison
                # would lie. (Syncing each step measured no slower than only launching it.)
                return self.sync(*new)
            return new

        current = tuple(state)
        for _ in range(self.args.warmup):
            current = advance(current)
        current = self.sync(*current)
        start = time.perf_counter()
        for _ in range(self.args.iters):
            current = advance(current)
        current = self.sync(*current)
        self.elapsed = time.perf_counter() - start
        return current

    def report(self, checksum: Any) -> None:
        """Print the checksum and the time of the timed loop."""
        print(f"package: {self.package}  size: {self.args.size}  iters: {self.args.iters}")
        print(f"checksum: {float(checksum)!r}")
        print(f"time: {self.elapsed:.6f}", flush=True)
