"""Dense matrix multiply C = A @ B with N x N float64 matrices.

Checksum: the sum of C.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=256, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    np.random.seed(ex.args.seed)
    A = np.random.rand(n, n)
    B = np.random.rand(n, n)

    def step(C):
        return A @ B

    (C,) = ex.run(step, None)
    ex.report(np.sum(C))


if __name__ == "__main__":
    main()
