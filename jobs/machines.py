"""Machine profiles: YAML files giving a machine's facts and job defaults.

Looked up by name, first in ``$HPCARRAY_MACHINES_DIR``, then in
``~/.config/hpcarray/machines/``, then among the profiles shipped in
``hpcarray.configs`` (``configs/machines/*.yaml``). Dropping ``NAME.yaml`` into either
directory adds (or overrides) machine ``NAME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hpcarray.jobs.errors import JobError
from hpcarray.jobs.spec import GPU_BINDINGS, LAUNCHERS, MPI_FLAVOURS, SCHEDULERS


@dataclass(frozen=True)
class MachineProfile:
    """The facts of one machine and the defaults its jobs start from."""

    name: str
    description: str = ""
    scheduler: str | None = None  # None: detect (sbatch -> slurm, bsub -> lsf, else none)
    launcher: str | None = None  # None: the scheduler's natural launcher
    mpi: str = "mpich"
    srun_mpi: str | None = None
    cores_per_node: int | None = None  # None: unknown, not checked
    threads_per_core: int = 1  # hardware threads: Slurm counts CPUs as cores x threads
    gpus_per_node: int | None = None  # None: unknown, not checked; 0: no GPUs
    ranks_per_node: int | None = None
    cpus_per_rank: int | None = None
    gpu_bind: str = "per-task"
    cpu_bind: str | None = None
    time: str | None = None
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    python: str | None = None
    directives: tuple[str, ...] = ()
    launcher_args: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    lsf_style: str = "slots"
    extra: dict[str, Any] = field(default_factory=dict)


_CHOICES = {
    "scheduler": SCHEDULERS,
    "launcher": LAUNCHERS,
    "mpi": MPI_FLAVOURS,
    "gpu_bind": GPU_BINDINGS,
    "lsf_style": ("slots", "nnodes"),
}


def search_dirs() -> list[Path]:
    """User directories searched before the shipped profiles, in order."""
    dirs = []
    env = os.environ.get("HPCARRAY_MACHINES_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(Path.home() / ".config" / "hpcarray" / "machines")
    return dirs


def _shipped() -> dict[str, str]:
    root = resources.files("hpcarray.configs") / "machines"
    out = {}
    for entry in root.iterdir():
        if entry.name.endswith(".yaml"):
            out[entry.name[: -len(".yaml")]] = entry.read_text(encoding="utf-8")
    return out


def available() -> list[str]:
    """Names of all machine profiles that can be loaded."""
    names = set(_shipped())
    for d in search_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.yaml"))
    return sorted(names)


def _read(name: str) -> tuple[str, str]:
    for d in search_dirs():
        path = d / f"{name}.yaml"
        if path.is_file():
            return path.read_text(encoding="utf-8"), str(path)
    shipped = _shipped()
    if name in shipped:
        return shipped[name], f"hpcarray.configs/machines/{name}.yaml"
    raise JobError(f"unknown machine {name!r} (known: {', '.join(available())})")


def load(name: str) -> MachineProfile:
    """Load machine profile ``name``; JobError if missing or malformed."""
    if not name or "/" in name or name.startswith("."):
        raise JobError(f"invalid machine name {name!r}")
    text, origin = _read(name)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise JobError(f"machine profile {origin}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise JobError(f"machine profile {origin}: expected a mapping at top level")
    return from_dict(data, name=name, origin=origin)


def from_dict(data: dict[str, Any], name: str, origin: str = "<dict>") -> MachineProfile:
    """Validate a profile mapping and turn it into a MachineProfile."""
    known = {f.name for f in fields(MachineProfile)} - {"extra", "name"}
    kwargs: dict[str, Any] = {"name": str(data.get("name", name))}
    extra = {}
    for key, value in data.items():
        key = str(key).replace("-", "_")
        if key == "name":
            continue
        if key not in known:
            extra[key] = value
            continue
        if key in _CHOICES and value is not None and value not in _CHOICES[key]:
            raise JobError(
                f"machine profile {origin}: {key} must be one of {', '.join(_CHOICES[key])}"
            )
        if key in ("directives", "launcher_args", "modules"):
            value = tuple(str(v) for v in (value or ()))
            if any("\n" in v for v in value):
                raise JobError(f"machine profile {origin}: {key} entries must be one line each")
        elif key == "env":
            value = tuple((str(k), str(v)) for k, v in (value or {}).items())
        elif key in (
            "cores_per_node",
            "gpus_per_node",
            "ranks_per_node",
            "cpus_per_rank",
            "threads_per_core",
        ):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise JobError(f"machine profile {origin}: {key} must be a whole number")
        kwargs[key] = value
    return MachineProfile(extra=extra, **kwargs)
