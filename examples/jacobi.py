"""Jacobi iteration for A x = b with a dense, diagonally dominant N x N matrix.

A = rand(N, N) + N * I; split A = D + R and iterate x = (b - R @ x) / d.
Checksum: the sum of x.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=100, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    np.random.seed(ex.args.seed)
    A = np.random.rand(n, n) + n * np.eye(n)
    b = np.random.rand(n)
    d = np.diag(A)
    R = A - np.diag(d)
    x = np.zeros(n)

    def step(x):
        return (b - R @ x) / d

    (x,) = ex.run(step, x)
    ex.report(np.sum(x))


if __name__ == "__main__":
    main()
