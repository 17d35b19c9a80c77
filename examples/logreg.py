"""Logistic regression trained by full-batch gradient descent on synthetic data.

X is N x F standard normal, labels come from a hidden weight vector plus noise; each step
computes p = sigmoid(X @ w) and w -= lr * X.T @ (p - y) / N.
Checksum: sum(w * w) (a sum of squares, free of cancellation).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--features", type=int, default=16,
                            help="features per sample (default: %(default)s)")
        parser.add_argument("--lr", type=float, default=0.5,
                            help="learning rate (default: %(default)s)")

    ex = Example.from_argv(__doc__, size=10_000, iters=10, argv=argv, extra=options)
    np = ex.np
    n, f, lr = ex.args.size, ex.args.features, ex.args.lr
    np.random.seed(ex.args.seed)
    X = np.random.randn(n, f)
    w_true = np.random.randn(f)
    noise = np.random.randn(n)
    y = ((X @ w_true + 0.5 * noise) > 0) * 1.0
    w = np.zeros(f)

    def step(w):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return w - (lr / n) * (X.T @ (p - y))

    (w,) = ex.run(step, w)
    ex.report(np.sum(w * w))


if __name__ == "__main__":
    main()
