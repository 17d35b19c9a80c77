"""numpy.random with NumPy's exact streams; what is not native falls back to NumPy.

The legacy functions draw from NumPy's global RandomState (so `seed` seeds numpy.random
too); `default_rng` returns a `Generator` whose `random`/`uniform` draw tile-parallel yet
bit-identical to NumPy. Results never depend on the tiling, worker or rank count. See
hpcarray/random/_generator.py.
"""

import numpy as _np

from hpcarray._namespace import module_getattr as _module_getattr
from hpcarray.random._generator import (  # noqa: F401
    Generator,
    RandomState,
    default_rng,
    get_state,
    seed,
    set_state,
    shuffle,
)
from hpcarray.random._generator import legacy_functions as _legacy_functions

globals().update(_legacy_functions)

BitGenerator = _np.random.BitGenerator
MT19937 = _np.random.MT19937
PCG64 = _np.random.PCG64
PCG64DXSM = _np.random.PCG64DXSM
Philox = _np.random.Philox
SFC64 = _np.random.SFC64
SeedSequence = _np.random.SeedSequence

__getattr__ = _module_getattr(_np.random, "random.", {})
