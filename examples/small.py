"""The seed's small example: a = arange(N*N) as N x N; b = a * 2 + 1; c = a * b.

Checksum: the sum of c, as a float.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=100, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    a = np.arange(n * n).reshape(n, n)

    def step(a, c):
        b = a * 2 + 1
        c = np.multiply(a, b)
        return a, c

    a, c = ex.run(step, a, a)
    ex.report(np.sum(c * 1.0))  # as float: an int64 sum would wrap at large N


if __name__ == "__main__":
    main()
