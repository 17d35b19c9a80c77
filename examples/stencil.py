"""2-D Jacobi heat diffusion on an (N+2) x (N+2) grid with fixed boundary temperatures.

The update uses five overlapping views of one grid, as in the cuNumeric stencil example:
``work = 0.2 * (center + north + east + west + south); center[:] = work``.
Checksum: the sum of the grid.
"""

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Example  # noqa: E402


def initialize(np: Any, n: int) -> Any:
    grid = np.zeros((n + 2, n + 2))
    grid[:, 0] = -273.15
    grid[:, -1] = -273.15
    grid[-1, :] = -273.15
    grid[0, :] = 40.0
    return grid


def main(argv: list[str] | None = None) -> None:
    ex = Example.from_argv(__doc__, size=100, iters=10, argv=argv)
    np = ex.np
    grid = initialize(np, ex.args.size)

    if ex.is_dask:
        # dask arrays are immutable: writing through a view does not reach its base, so
        # dask re-slices the grid every step and assigns the interior of the grid itself.
        def step(grid):
            center, north = grid[1:-1, 1:-1], grid[0:-2, 1:-1]
            east, west, south = grid[1:-1, 2:], grid[1:-1, 0:-2], grid[2:, 1:-1]
            grid[1:-1, 1:-1] = 0.2 * (center + north + east + west + south)
            return grid

        (grid,) = ex.run(step, grid)
    else:
        center = grid[1:-1, 1:-1]
        north = grid[0:-2, 1:-1]
        east = grid[1:-1, 2:]
        west = grid[1:-1, 0:-2]
        south = grid[2:, 1:-1]

        def step(grid):  # updates grid in place through its views
            work = 0.2 * (center + north + east + west + south)
            center[:] = work

        ex.run(step, grid)

    ex.report(np.sum(grid))


if __name__ == "__main__":
    main()
