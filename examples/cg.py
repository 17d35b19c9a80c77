"""Preconditioned conjugate gradient on a 2-D Poisson problem, matrix-free.

The operator is A u = (4 + c) u - (sum of the four neighbours) on an N x N grid with zero
Dirichlet boundaries, where c >= 0 is a seeded random reaction coefficient (so A is SPD and
its diagonal varies). A is applied with slicing, never stored; the preconditioner is
Jacobi (divide by the diagonal). A fixed number of iterations keeps runs comparable.
Checksum: the sum of x.
"""

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def apply_operator(np: Any, diag: Any, u: Any) -> Any:
    """A u with the 5-point Laplacian; neighbours outside the grid are zero."""
    Au = diag * u
    Au[1:, :] -= u[:-1, :]
    Au[:-1, :] -= u[1:, :]
    Au[:, 1:] -= u[:, :-1]
    Au[:, :-1] -= u[:, 1:]
    return Au


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=100, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    np.random.seed(ex.args.seed)
    diag = 4.0 + np.random.rand(n, n)
    b = np.random.rand(n, n)

    x = np.zeros((n, n))
    r = b - apply_operator(np, diag, x)
    z = r / diag
    p = z
    rz = np.sum(r * z)

    def step(x, r, p, rz):
        Ap = apply_operator(np, diag, p)
        alpha = rz / np.sum(p * Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        z = r / diag
        rz_new = np.sum(r * z)
        p = z + (rz_new / rz) * p
        return x, r, p, rz_new

    x, r, p, rz = ex.run(step, x, r, p, rz)
    print(f"residual: {float(np.sqrt(np.sum(r * r))):.3e}")
    ex.report(np.sum(x))


if __name__ == "__main__":
    main()
