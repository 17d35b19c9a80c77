"""Fusion: consecutive elementwise operations over one launch domain become one kernel
per tile.

- fuser.py: the pending group (nodes, leaves, sink), when it closes, how it launches;
- inplace.py: groups whose output overlaps what they read (the stencil's
  `center[:] = work`), run in place chunk by chunk with snapshots of the rows they need;
- chain.py: a run of window updates of one array (CG's `Au[1:] -= u[:-1]`) as one pass;
- pieces.py: leaves that are arrays joined along an axis (concatenate, roll), read in
  place.
The plans groups become run on the rank's backend (backend/cpu/kernels.py).
"""

from hpcarray.runtime.fusion.fuser import Func, Fuser, copy_func

__all__ = ["Func", "Fuser", "copy_func"]
