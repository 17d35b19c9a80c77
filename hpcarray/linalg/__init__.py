"""numpy.linalg on tiles; what is not native falls back to NumPy."""

import numpy as _np

from hpcarray._namespace import module_getattr as _module_getattr

__getattr__ = _module_getattr(_np.linalg, "linalg.", {})
