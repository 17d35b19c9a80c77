"""Black-Scholes prices of European call and put options for N random contracts.

The cumulative normal distribution uses the Abramowitz-Stegun polynomial approximation
(26.2.17) built from np.exp, np.abs and np.where, so no erf is needed.
Checksum: sum(call) + sum(put).
"""

import math
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402

RISK_FREE = 0.02
VOLATILITY = 0.30
# Abramowitz & Stegun 26.2.17 coefficients.
P = 0.2316419
B1, B2, B3, B4, B5 = 0.319381530, -0.356563782, 1.781477937, -1.821255978, 1.330274429
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def cnd(np: Any, x: Any) -> Any:
    """Standard normal cumulative distribution, |error| < 7.5e-8."""
    k = 1.0 / (1.0 + P * np.abs(x))
    poly = k * (B1 + k * (B2 + k * (B3 + k * (B4 + k * B5))))
    upper = 1.0 - INV_SQRT_2PI * np.exp(-0.5 * x * x) * poly
    return np.where(x < 0, 1.0 - upper, upper)


def price(np: Any, S: Any, K: Any, T: Any) -> tuple[Any, Any]:
    """Call and put prices for spot S, strike K and years to expiry T."""
    vol_sqrt_t = VOLATILITY * np.sqrt(T)
    d1 = (np.log(S / K) + (RISK_FREE + 0.5 * VOLATILITY * VOLATILITY) * T) / vol_sqrt_t
    d2 = d1 - vol_sqrt_t
    discounted = K * np.exp(-RISK_FREE * T)
    call = S * cnd(np, d1) - discounted * cnd(np, d2)
    put = discounted * cnd(np, -d2) - S * cnd(np, -d1)
    return call, put


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=100_000, iters=10, argv=argv)
    np = ex.np
    n = ex.args.size
    np.random.seed(ex.args.seed)
    S = 5.0 + 25.0 * np.random.rand(n)
    K = 1.0 + 99.0 * np.random.rand(n)
    T = 0.25 + 9.75 * np.random.rand(n)

    def step(call, put):
        return price(np, S, K, T)

    call, put = ex.run(step, None, None)
    ex.report(np.sum(call) + np.sum(put))


if __name__ == "__main__":
    main()
