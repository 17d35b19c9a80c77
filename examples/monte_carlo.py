"""Monte Carlo integration from uniform random numbers.

Each iteration draws N points (x, y) in the unit square and accumulates two estimates:
pi = 4 * P(x^2 + y^2 <= 1) and the integral of exp(-x^2) over [0, 1] (about 0.746824).
Checksum: pi_estimate + integral_estimate.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=1_000_000, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    np.random.seed(ex.args.seed)

    def step(hits, total):
        x = np.random.rand(n)
        y = np.random.rand(n)
        hits = hits + np.sum((x * x + y * y) <= 1.0)
        total = total + np.sum(np.exp(-x * x))
        return hits, total

    hits, total = ex.run(step, 0, 0.0)
    samples = n * (ex.args.warmup + ex.args.iters)
    pi, integral = 4.0 * float(hits) / samples, float(total) / samples
    print(f"pi: {pi:.6f}  integral: {integral:.6f}")
    ex.report(pi + integral)


if __name__ == "__main__":
    main()
