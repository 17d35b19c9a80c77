"""Small programs the tests run under NumPy and hpcarray alike (pass the module as xp)."""

from __future__ import annotations

from typing import Any


def gray_scott_step(xp: Any, U: Any, V: Any) -> None:
    """One Gray-Scott step: both grids are written over the windows read of them."""
    def lap(A):
        return A[:-2, 1:-1] + A[2:, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] - 4 * A[1:-1, 1:-1]

    u, v = U[1:-1, 1:-1], V[1:-1, 1:-1]
    uvv = u * v * v
    du = 0.16 * lap(U) - uvv + 0.06 * (1 - u)
    dv = 0.08 * lap(V) + uvv - 0.122 * v
    U[1:-1, 1:-1] = u + du
    V[1:-1, 1:-1] = v + dv
