"""Unit tests: the rank command's pure functions, launchers, machine profiles, defaults."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hpcarray.jobs import build, launchers, machines
from hpcarray.jobs.build import build_spec, parse_env
from hpcarray.jobs.errors import JobError
from hpcarray.jobs.launchers import local_launch_argv, make_launcher
from hpcarray.jobs.rank import (
    ShellVar,
    gpu_select,
    nsys_wrapper,
    profiling_env,
    profiling_flags,
    program_argv,
    shell_join,
)
from hpcarray.jobs.spec import Profiling, Program
from hpcarray.jobs.timefmt import lsf_walltime, minutes
from hpcarray.jobs.tracking import SlurmTracker

HOSTILE = ["; rm -rf ~", "$(touch pwned)", "`id`", "a'b", 'q"q', "x\ny", "*", "", "--"]


def test_shell_join_keeps_each_argument_whole(tmp_path: Path) -> None:
    line = shell_join(["printf", "%s\\n", *HOSTILE])
    out = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.split("\n")[:-1] == [a for h in HOSTILE for a in h.split("\n")]
    assert not (tmp_path / "pwned").exists()


def test_shell_var_is_expanded_not_quoted() -> None:
    assert shell_join(["cat", ShellVar("F")]) == 'cat "$F"'


def test_gpu_select_wrapper_sets_device_from_local_rank() -> None:
    argv = gpu_select("MY_LOCAL") + ["sh", "-c", 'echo "$CUDA_VISIBLE_DEVICES"']
    out = subprocess.run(
        ["bash", "-c", shell_join(argv)], env={"MY_LOCAL": "3", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.stdout.strip() == "3"
    assert gpu_select(None) == []


def test_profiling_pieces() -> None:
    p = Profiling(profile_dir="out", nsys=True, dataflow=True, event=True)
    assert dict(profiling_env(p)) == {
        "HPCARRAY_PROFILE": "out",
        "HPCARRAY_DATAFLOW": "1",
        "HPCARRAY_EVENT": "1",
        "HPCARRAY_NVTX": "1",
    }
    assert profiling_flags(p) == ["--profile", "out", "--dataflow", "--event"]
    assert nsys_wrapper(p, "SLURM_PROCID")[-1] == "--output=out/nsys-rank%q{SLURM_PROCID}"
    assert nsys_wrapper(Profiling(), "X") == []
    assert profiling_env(Profiling()) == []


def test_program_argv_modes() -> None:
    prog = Program("s.py", ("a",), "py")
    prof = Profiling(profile_dir="d")
    assert program_argv(prog, prof) == ["py", "s.py", "a"]
    assert program_argv(prog, prof, mode="hpcarray-run") == [
        "py", "-m", "hpcarray", "run", "--profile", "d", "s.py", "a",
    ]  # fmt: skip


def test_local_launcher_thin_function() -> None:
    assert local_launch_argv(1, ["py", "s.py"]) == ["py", "s.py"]
    assert local_launch_argv(4, ["py", "s.py"], mpiexec="/x/mpiexec") == [
        "/x/mpiexec", "-n", "4", "py", "s.py",
    ]  # fmt: skip
    # launcher arguments go to the launcher, never before python (was: exit 127)
    assert local_launch_argv(1, ["py", "s.py"], mpiexec="/x/mpiexec", extra=["-v"]) == [
        "/x/mpiexec", "-n", "1", "-v", "py", "s.py",
    ]  # fmt: skip


def test_find_mpiexec_prefers_the_one_beside_python(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "mpiexec").write_text("")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert launchers.find_mpiexec() == str(tmp_path / "mpiexec")


def test_local_many_ranks_without_mpiexec(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("")
    monkeypatch.setattr(launchers, "find_mpiexec", lambda: None)
    with pytest.raises(JobError, match="need mpiexec"):
        build_spec("s.py", machine="local", ranks_per_node=2, workdir=str(tmp_path))


def test_srun_mpi_plugin_follows_mpi4py(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("")
    for vendor, plugin in (("openmpi", "--mpi=pmix"), ("mpich", "--mpi=pmi2")):
        monkeypatch.setattr(build, "detect_mpi", lambda v=vendor: v)
        spec = build_spec("s.py", machine="generic-slurm", workdir=str(tmp_path))
        assert plugin in make_launcher(spec).argv()
    monkeypatch.setattr(build, "detect_mpi", lambda: None)
    spec = build_spec("s.py", machine="dgx-superpod", workdir=str(tmp_path))
    assert "--mpi=pmix" in make_launcher(spec).argv()  # the profile's Open MPI


def test_defaults_from_profile(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("")
    monkeypatch.setattr(build, "detect_mpi", lambda: None)
    spec = build_spec("s.py", machine="summit", nodes=3, workdir=str(tmp_path))
    r = spec.resources
    assert (r.nodes, r.ranks_per_node, r.gpus_per_node, r.cpus_per_rank) == (3, 6, 6, 7)
    assert spec.launch.launcher == "jsrun" and spec.launch.scheduler == "lsf"
    spec = build_spec("s.py", machine="perlmutter", gpus_per_node=2, workdir=str(tmp_path))
    assert (spec.resources.ranks_per_node, spec.resources.cpus_per_rank) == (2, 32)
    assert spec.resources.slurm_cpus_per_rank == 64
    # overriding the scheduler drops the profile's launcher for the scheduler's natural one
    spec = build_spec("s.py", machine="generic-slurm", scheduler="none", workdir=str(tmp_path))
    assert spec.launch.launcher == "local"


def test_machine_detection(monkeypatch) -> None:
    monkeypatch.delenv("HPCARRAY_MACHINE", raising=False)
    found = {"sbatch": None, "bsub": None}
    monkeypatch.setattr(build.shutil, "which", lambda name: found.get(name))
    assert build.detect_machine() == "local"
    found["bsub"] = "/usr/bin/bsub"
    assert build.detect_machine() == "generic-lsf"
    found["sbatch"] = "/usr/bin/sbatch"
    assert build.detect_machine() == "generic-slurm"
    monkeypatch.setenv("HPCARRAY_MACHINE", "summit")
    assert build.detect_machine() == "summit"


def test_user_profiles(monkeypatch, tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "mybox.yaml").write_text("gpus_per_node: 2\nscheduler: none\ncores_per_node: 8\n")
    (d / "summit.yaml").write_text("scheduler: slurm\ngpus_per_node: 1\n")  # overrides shipped
    monkeypatch.setenv("HPCARRAY_MACHINES_DIR", str(d))
    assert "mybox" in machines.available()
    assert machines.load("mybox").gpus_per_node == 2
    assert machines.load("summit").scheduler == "slurm"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HPCARRAY_MACHINES_DIR")
    home = tmp_path / "home" / ".config" / "hpcarray" / "machines"
    home.mkdir(parents=True)
    (home / "other.yaml").write_text("scheduler: lsf\n")
    assert machines.load("other").scheduler == "lsf"


def test_shipped_profiles_are_documented_and_valid() -> None:
    for name in ("local", "generic-slurm", "generic-lsf", "perlmutter", "dgx-superpod", "summit"):
        prof = machines.load(name)
        assert prof.description and not prof.extra, name
    assert machines.load("perlmutter").gpus_per_node == 4
    assert machines.load("perlmutter").cores_per_node == 64
    assert machines.load("dgx-superpod").gpus_per_node == 8
    assert (machines.load("summit").gpus_per_node, machines.load("summit").cores_per_node) == (
        6,
        42,
    )


def test_parse_env() -> None:
    assert parse_env(["A=1", "B=x=y", "C="]) == (("A", "1"), ("B", "x=y"), ("C", ""))
    assert parse_env({"K": 3}) == (("K", "3"),)
    with pytest.raises(JobError):
        parse_env(["novalue"])


@pytest.mark.parametrize(
    ("text", "mins", "lsf"),
    [("30", 30, "0:30"), ("1:30", 2, "0:02"), ("02:00:00", 120, "2:00"), ("1-0", 1440, "24:00"),
     ("1-02:03:04", 1564, "26:04"), ("48:00:00", 2880, "48:00"), ("90:30", 91, "1:31"),
     ("2-3:4", 3064, "51:04")],
)  # fmt: skip
def test_times(text: str, mins: int, lsf: str) -> None:
    assert minutes(text) == mins
    assert lsf_walltime(text) == lsf


@pytest.mark.parametrize("text", ["25:99:99", "1:60", "1:00:60", "1-24", "1-2:60", "1-2:3:60"])
def test_times_fields_checked(text: str) -> None:
    """Only the leading field may exceed a clock's range (Slurm's 48:00:00, 90:30)."""
    with pytest.raises(JobError, match="must be below"):
        minutes(text)


def test_slurm_state_parsing() -> None:
    st = SlurmTracker._status("CANCELLED", "0:15")
    assert (st.state, st.exit_code, st.done) == ("CANCELLED", 143, True)
    assert SlurmTracker._status("FAILED", "3:0").exit_code == 3
    assert SlurmTracker._status("RUNNING", "0:0").exit_code is None
    assert SlurmTracker._status("WEIRD", "").state == "UNKNOWN"


def test_python_api_dry_run(tmp_path: Path) -> None:
    import hpcarray.jobs as jobs

    (tmp_path / "s.py").write_text("")
    sub = jobs.submit(
        "s.py", "; rm -rf ~", machine="dgx-superpod", nodes=2, dry_run=True, workdir=str(tmp_path)
    )
    assert "#SBATCH --nodes=2" in sub.script
    assert shlex.quote("; rm -rf ~") in sub.script
    assert sub.command.startswith("sbatch --parsable ")
