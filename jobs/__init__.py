"""Job submission (Slurm, LSF, mpirun) from templates and machine profiles.

``hpcarray.jobs.submit(script, *args, nodes=..., ...)`` returns a :class:`Job` handle
(``wait()``, ``state``, ``cancel()``, ``stdout()``); ``hpcarray submit`` and
``hpcarray jobs`` are the command-line faces (:mod:`hpcarray.jobs.cli`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Job", "JobError", "JobSpec", "build_spec", "submit"]

_LAZY = {
    "Job": "hpcarray.jobs.job",
    "JobError": "hpcarray.jobs.errors",
    "JobSpec": "hpcarray.jobs.spec",
    "build_spec": "hpcarray.jobs.build",
    "submit": "hpcarray.jobs.api",
}


def __getattr__(name: str) -> Any:  # imported on first use: `hpcarray --help` stays quick
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hpcarray.jobs' has no attribute {name!r}")
