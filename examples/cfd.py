"""Channel flow with the Navier-Stokes equations, periodic in x (step 12 of the
"CFD Python: 12 steps to Navier-Stokes" course), written with array slicing.

The domain is [0, 2] x [0, 2] on an N x N grid (rows: y, columns: x). Walls at the top and
bottom rows (u = v = 0, dp/dy = 0); the x direction is periodic, handled by shifting rows
with ``np.concatenate``; a constant source F drives the flow. Each step builds the source
term b, relaxes the pressure Poisson equation for ``--nit`` Jacobi sweeps, then updates
u and v. The flow starts from a small seeded random perturbation so that the pressure
solve has work to do. Checksum: sum(u) + sum(v) + sum(p).
"""

import argparse
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402

RHO = 1.0
NU = 0.1
FORCE = 1.0


def east(np: Any, a: Any) -> Any:
    """Each point's neighbour at x + dx, wrapping around (periodic in x)."""
    return np.concatenate([a[:, 1:], a[:, :1]], axis=1)


def west(np: Any, a: Any) -> Any:
    """Each point's neighbour at x - dx, wrapping around (periodic in x)."""
    return np.concatenate([a[:, -1:], a[:, :-1]], axis=1)


def build_up_b(np: Any, u: Any, v: Any, dt: float, dx: float, dy: float) -> Any:
    """The source term of the pressure Poisson equation on the interior rows."""
    uc, vc = u[1:-1], v[1:-1]
    dudx = (east(np, uc) - west(np, uc)) / (2 * dx)
    dvdx = (east(np, vc) - west(np, vc)) / (2 * dx)
    dudy = (u[2:] - u[:-2]) / (2 * dy)
    dvdy = (v[2:] - v[:-2]) / (2 * dy)
    return RHO * ((dudx + dvdy) / dt - dudx * dudx - 2 * dudy * dvdx - dvdy * dvdy)


def pressure_poisson(np: Any, p: Any, b: Any, dx: float, dy: float, nit: int) -> Any:
    """``nit`` Jacobi sweeps of the pressure equation; dp/dy = 0 at the walls."""
    dx2, dy2 = dx * dx, dy * dy
    denom = 2 * (dx2 + dy2)
    for _ in range(nit):
        pc = p[1:-1]
        interior = ((east(np, pc) + west(np, pc)) * dy2 + (p[2:] + p[:-2]) * dx2) / denom
        interior = interior - (dx2 * dy2 / denom) * b
        p = np.concatenate([interior[:1], interior, interior[-1:]], axis=0)
    return p


def momentum(
    np: Any, u: Any, v: Any, p: Any, dt: float, dx: float, dy: float
) -> tuple[Any, Any]:
    """One explicit step of the momentum equations; u = v = 0 at the walls."""
    uc, vc, pc = u[1:-1], v[1:-1], p[1:-1]
    un = (uc - uc * (dt / dx) * (uc - west(np, uc)) - vc * (dt / dy) * (uc - u[:-2])
          - (dt / (2 * RHO * dx)) * (east(np, pc) - west(np, pc))
          + NU * ((dt / dx**2) * (east(np, uc) - 2 * uc + west(np, uc))
                  + (dt / dy**2) * (u[2:] - 2 * uc + u[:-2]))
          + FORCE * dt)
    vn = (vc - uc * (dt / dx) * (vc - west(np, vc)) - vc * (dt / dy) * (vc - v[:-2])
          - (dt / (2 * RHO * dy)) * (p[2:] - p[:-2])
          + NU * ((dt / dx**2) * (east(np, vc) - 2 * vc + west(np, vc))
                  + (dt / dy**2) * (v[2:] - 2 * vc + v[:-2])))
    wall = np.zeros((1, u.shape[1]))
    u = np.concatenate([wall, un, wall], axis=0)
    v = np.concatenate([wall, vn, wall], axis=0)
    return u, v


def main(argv: list[str] | None = None) -> None:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--nit", type=int, default=50,
                            help="pressure sweeps per step (default: %(default)s)")

    ex = Example.from_argv(__doc__, size=41, iters=10, argv=argv, extra=options)
    np = ex.np
    n = ex.args.size
    dx = dy = 2.0 / (n - 1)
    dt = min(1e-3, 0.2 * dx * dx / NU)  # explicit viscous stability limit

    np.random.seed(ex.args.seed)
    u = 0.01 * np.random.rand(n, n)
    v = 0.01 * np.random.rand(n, n)
    p = np.zeros((n, n))

    def step(u, v, p):
        b = build_up_b(np, u, v, dt, dx, dy)
        p = pressure_poisson(np, p, b, dx, dy, ex.args.nit)
        u, v = momentum(np, u, v, p, dt, dx, dy)
        return u, v, p

    u, v, p = ex.run(step, u, v, p)
    ex.report(np.sum(u) + np.sum(v) + np.sum(p))


if __name__ == "__main__":
    main()
