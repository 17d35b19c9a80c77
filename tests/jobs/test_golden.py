"""Golden dry runs of ``hpcarray submit`` and ``bash -n`` on every rendered script.

LSF is a test double here: no LSF, bsub or jsrun exists on this machine or on PyPI/Debian,
so the LSF path (bsub directives, jsrun resource sets, mpirun on the LSF host list) is
checked only by its rendered scripts against the golden files in ``tests/jobs/golden/`` and
by ``bash -n``. Slurm scripts are also run for real in test_slurm.py.

Regenerate the golden files after an intended change with::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/jobs/test_golden.py

and review the diff. Paths that differ between machines are written as {CWD} (the
directory the dry run ran in) and {PYTHON} (sys.executable).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hpcarray.jobs import build
from hpcarray.jobs.api import plan
from hpcarray.jobs.build import build_spec
from hpcarray.jobs.errors import JobError

from hpcarray.cli import main as hpcarray_main

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"

MACHINES = ["local", "generic-slurm", "generic-lsf", "perlmutter", "dgx-superpod", "summit"]

CASES: dict[str, list[str]] = {
    **{
        f"machine-{m}": ["--machine", m, "--nodes", "64", "--gpus-per-node", "8"]
        for m in MACHINES
    },
    "lsf-summit-jsrun": ["--machine", "summit", "--nodes", "2", "--account", "abc123",
                         "--time", "45", "--partition", "batch"],
    "lsf-mpirun-openmpi": ["--machine", "generic-lsf", "--nodes", "4", "--gpus-per-node", "4",
                           "--time", "2:00:00", "--partition", "gpu", "--env", "A=1"],
    "lsf-mpirun-mpich": ["--machine", "generic-lsf", "--mpi", "mpich", "--nodes", "2",
                         "--ranks-per-node", "8"],
    "slurm-mpirun-openmpi": ["--machine", "generic-slurm", "--launcher", "mpirun",
                             "--mpi", "openmpi", "--nodes", "2", "--ranks-per-node", "4",
                             "--env", "A=1"],
    "slurm-mpirun-mpich": ["--machine", "generic-slurm", "--launcher", "mpirun",
                           "--nodes", "2", "--ranks-per-node", "4"],
    # GPUs with launchers that do not bind them: the rank's local index picks its GPU
    "slurm-mpirun-gpus": ["--machine", "generic-slurm", "--launcher", "mpirun",
                          "--mpi", "openmpi", "--nodes", "2", "--gpus-per-node", "4"],
    "slurm-srun-gpus-backend-override": ["--machine", "dgx-superpod", "--nodes", "2",
                                         "--env", "HPCARRAY_BACKEND=cpu"],
    "lsf-mpirun-mpich-gpus": ["--machine", "generic-lsf", "--mpi", "mpich", "--nodes", "2",
                              "--gpus-per-node", "6"],
    "slurm-profiling": ["--machine", "perlmutter", "--nodes", "2", "--account", "m1234",
                        "--profile", "prof", "--nsys", "--dataflow", "--event",
                        "--module", "cudatoolkit", "--env", "X=a b; $(id)",
                        "--launcher-extra", "--exclusive --label"],
}  # fmt: skip
SCRIPT_ARGS = ["stencil.py", "--size", "4096", "; rm -rf ~"]


def _normalise(text: str, cwd: Path) -> str:
    return text.replace(str(cwd), "{CWD}").replace(sys.executable, "{PYTHON}")


def dry_run(options: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run ``hpcarray submit OPTIONS --dry-run SCRIPT...`` in-process; a normalised report."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(build, "detect_mpi", lambda: None)  # mpi4py, if any, must not matter
    # nor a Slurm cluster on PATH: generic Slurm jobs show the fallback of one with no sinfo
    monkeypatch.setattr(build, "slurm_node_cpus",
                        lambda partition: (None, "sinfo not found on PATH"))
    argv = ["submit", *options, "--dry-run", *SCRIPT_ARGS]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = hpcarray_main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    shown = " ".join(a if " " not in a and ";" not in a else repr(a) for a in argv)
    report = f"$ hpcarray {shown}\nexit status: {code}\n--- stdout\n{out.getvalue()}"
    report += f"--- stderr\n{err.getvalue()}"
    return _normalise(report, cwd)


@pytest.fixture
def stencil_dir(tmp_path: Path) -> Path:
    shutil.copy(DATA / "stencil.py", tmp_path / "stencil.py")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_dry_run(case: str, stencil_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got = dry_run(CASES[case], stencil_dir, monkeypatch)
    path = GOLDEN / f"{case}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(got)
    assert path.exists(), f"missing golden {path}: run with UPDATE_GOLDEN=1"
    assert got == path.read_text(), f"dry run differs from {path} (UPDATE_GOLDEN=1 to accept)"


def test_dry_run_writes_nothing(stencil_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dry_run(CASES["machine-dgx-superpod"], stencil_dir, monkeypatch)
    assert sorted(p.name for p in stencil_dir.iterdir()) == ["stencil.py"]


def test_gpu_overflow_goldens_are_errors() -> None:
    """Machines with fewer than 8 GPUs per node answer --gpus-per-node 8 with an error."""
    for m in ("perlmutter", "summit"):
        text = (GOLDEN / f"machine-{m}.txt").read_text()
        assert "exit status: 2" in text and "exceeds the" in text


# ---- bash -n on every launcher x scheduler x MPI x GPU x profiling combination --------------
COMBOS = [
    (sched, launcher, mpi, gpus, prof)
    for (sched, launcher), mpi, gpus, prof in itertools.product(
        [("slurm", "srun"), ("slurm", "mpirun"), ("lsf", "jsrun"), ("lsf", "mpirun"),
         ("none", "local"), ("none", "mpirun")],
        ["mpich", "openmpi"],
        [0, 2],
        [False, True],
    )
]  # fmt: skip


@pytest.mark.parametrize(("sched", "launcher", "mpi", "gpus", "prof"), COMBOS)
def test_rendered_scripts_parse(
    sched: str, launcher: str, mpi: str, gpus: int, prof: bool, stencil_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr("hpcarray.jobs.launchers.find_mpiexec", lambda: "/opt/mpich/bin/mpiexec")
    machine = {"slurm": "generic-slurm", "lsf": "summit", "none": "local"}[sched]
    if sched == "lsf" and launcher == "mpirun":
        machine = "generic-lsf"
    spec = build_spec(
        "stencil.py",
        ["; rm -rf ~", "$(id)", "a'b", 'q"q', "line\nbreak"],
        machine=machine,
        scheduler=sched,
        launcher=launcher,
        mpi=mpi,
        nodes=1 if sched == "none" else 2,
        gpus_per_node=gpus,
        ranks_per_node=2,
        cpus_per_rank=1,
        env={"HOSTILE": "`id` $HOME \"x\" 'y'"},
        modules=["gcc/12"] if sched != "none" else [],
        profile="prof" if prof else None,
        nsys=prof,
        dataflow=prof,
        event=prof,
        workdir=str(stencil_dir),
    )
    _, sub = plan(spec)
    script = stencil_dir / "job.sh"
    script.write_text(sub.script)
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + sub.script


def test_every_machine_renders_and_parses(stencil_dir: Path) -> None:
    """Each shipped profile with its own defaults gives a script bash accepts."""
    for m in MACHINES:
        try:
            spec = build_spec("stencil.py", ["x"], machine=m, workdir=str(stencil_dir))
        except JobError as err:  # local with >1 rank and no mpiexec: acceptable here
            assert m == "local", err
            continue
        _, sub = plan(spec)
        proc = subprocess.run(["bash", "-n"], input=sub.script, capture_output=True, text=True)
        assert proc.returncode == 0, (m, proc.stderr)
