"""Gray-Scott reaction-diffusion on an N x N grid with a 5-point Laplacian via slicing.

U starts at 1 and V at 0, with a seeded noisy square of (0.5, 0.25) in the middle; the
boundary rows and columns stay fixed. Checksum: sum(U) + sum(V).
"""

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402

DU, DV = 0.16, 0.08
FEED, KILL = 0.060, 0.062


def laplacian(A: Any) -> Any:
    """5-point Laplacian of the interior of A."""
    return A[:-2, 1:-1] + A[2:, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] - 4 * A[1:-1, 1:-1]


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=128, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    np.random.seed(ex.args.seed)
    U = np.ones((n, n))
    V = np.zeros((n, n))
    lo, hi = n // 2 - n // 8, n // 2 + n // 8
    U[lo:hi, lo:hi] = 0.50
    V[lo:hi, lo:hi] = 0.25
    U = U + 0.02 * np.random.rand(n, n)
    V = V + 0.02 * np.random.rand(n, n)

    def step(U, V):
        u, v = U[1:-1, 1:-1], V[1:-1, 1:-1]
        Lu, Lv = laplacian(U), laplacian(V)
        uvv = u * v * v
        du = DU * Lu - uvv + FEED * (1 - u)
        dv = DV * Lv + uvv - (FEED + KILL) * v
        U[1:-1, 1:-1] = u + du
        V[1:-1, 1:-1] = v + dv
        return U, V

    U, V = ex.run(step, U, V)
    ex.report(np.sum(U) + np.sum(V))


if __name__ == "__main__":
    main()
