"""The benchmarked programs: sizes, units of throughput and bytes moved per iteration.

``bytes_per_point`` is what an ideally fused implementation must stream from memory per
point and iteration (read every input once, write every output once, temporaries stay in
cache); it is the basis of the roofline fraction. Programs bound by arithmetic or random
number generation rather than memory (GEMM, Monte Carlo) have none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Config:
    """One problem size of a program."""

    size: int
    iters: int
    extra: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        return ["--size", str(self.size), "--iters", str(self.iters), *self.extra]


@dataclass(frozen=True)
class Program:
    """An example program and how to measure it."""

    name: str
    full: Config
    quick: Config
    unit: str  # throughput unit, e.g. "Gpts/s"
    scale: float  # divide work/second by this to get `unit`
    work: Callable[[Config], float]  # units of work per iteration, before scaling
    points: Callable[[Config], float]  # points per iteration (for bytes moved)
    bytes_per_point: Callable[[Config], float] | None
    note: str = field(default="")

    @property
    def script(self) -> Path:
        return EXAMPLES / f"{self.name}.py"

    def config(self, quick: bool) -> Config:
        return self.quick if quick else self.full


def _square(c: Config) -> float:
    return float(c.size) ** 2


def _linear(c: Config) -> float:
    return float(c.size)


def _const(value: float) -> Callable[[Config], float]:
    return lambda c: value


def _nit(c: Config) -> int:
    extra = list(c.extra)
    return int(extra[extra.index("--nit") + 1]) if "--nit" in extra else 50


def _cfd_bytes(c: Config) -> float:
    # build_up_b: read u, v, write b; each pressure sweep: read p, b, write p;
    # momentum: read u, v, p, write u, v.
    return 8.0 * (3 + 3 * _nit(c) + 5)


_FEATURES = 16  # logreg's default --features

PROGRAMS: tuple[Program, ...] = (
    Program("stencil", Config(8000, 10), Config(200, 5), "Gpts/s", 1e9, _square, _square,
            _const(16.0), "read grid, write grid"),
    Program("small", Config(4000, 10), Config(200, 3), "Gpts/s", 1e9, _square, _square,
            _const(16.0), "read a, write c (int64)"),
    Program("cfd", Config(1000, 5), Config(48, 2, ("--nit", "10")), "Mpts/s", 1e6,
            _square, _square, _cfd_bytes, "per step incl. nit pressure sweeps"),
    Program("jacobi", Config(4000, 50), Config(200, 5), "GFLOP/s", 1e9,
            lambda c: 2.0 * c.size**2, _square, _const(8.0), "read R once"),
    Program("cg", Config(2000, 50), Config(100, 5), "Mpts/s", 1e6, _square, _square,
            _const(112.0), "14 vector reads/writes"),
    Program("black_scholes", Config(10_000_000, 5), Config(20_000, 2), "Mopt/s", 1e6,
            _linear, _linear, _const(40.0), "read S, K, T, write call, put"),
    Program("logreg", Config(1_000_000, 20), Config(5_000, 5), "GFLOP/s", 1e9,
            lambda c: 4.0 * c.size * _FEATURES, lambda c: float(c.size) * _FEATURES,
            _const(16.0), "read X twice"),
    Program("gray_scott", Config(2000, 50), Config(100, 5), "Mpts/s", 1e6, _square, _square,
            _const(32.0), "read U, V, write U, V"),
    Program("monte_carlo", Config(5_000_000, 10), Config(50_000, 3), "Msamples/s", 1e6,
            _linear, _linear, None, "RNG-bound"),
    Program("gemm", Config(2000, 5), Config(128, 2), "GFLOP/s", 1e9,
            lambda c: 2.0 * c.size**3, _square, None, "compute-bound"),
)


def select(names: list[str] | None) -> list[Program]:
    """The programs named (all when ``names`` is empty), in registry order."""
    if not names:
        return list(PROGRAMS)
    known = {p.name: p for p in PROGRAMS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown program(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [p for p in PROGRAMS if p.name in names]
