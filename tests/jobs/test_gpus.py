"""GPU jobs: one GPU per rank, the GPU backend switched on, CPU cores per rank from the
machine profile (its cores per node / ranks per node), or for a generic Slurm profile from
the cluster (sinfo). The rendered scripts are in the
golden files (test_golden.py: machine-*, slurm-mpirun-gpus, lsf-mpirun-*)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hpcarray.jobs import build
from hpcarray.jobs.api import plan
from hpcarray.jobs.build import build_spec


def _spec(tmp_path: Path, **options):
    (tmp_path / "x.py").write_text("")
    return build_spec("x.py", machine=options.pop("machine", "dgx-superpod"),
                      workdir=str(tmp_path), **options)


def test_gpus_set_the_backend_and_cores_per_rank_come_from_the_profile(tmp_path):
    spec = _spec(tmp_path, gpus_per_node=4)
    res = spec.resources
    assert (res.ranks_per_node, res.gpus_per_node, res.cpus_per_rank) == (4, 4, 28)  # 112/4
    assert ("HPCARRAY_BACKEND", "cupy") in spec.environment.env
    script = plan(spec)[1].script
    assert "--cpus-per-task=28 --gpus-per-task=1" in script
    assert "export HPCARRAY_BACKEND=cupy" in script


def test_no_gpus_no_gpu_backend(tmp_path):
    spec = _spec(tmp_path, gpus_per_node=0, ranks_per_node=4)
    assert "HPCARRAY_BACKEND" not in dict(spec.environment.env)


def test_the_users_backend_wins(tmp_path):
    spec = _spec(tmp_path, env={"HPCARRAY_BACKEND": "auto"})
    assert dict(spec.environment.env)["HPCARRAY_BACKEND"] == "auto"


def test_mpirun_binds_a_gpu_per_local_rank(tmp_path):
    spec = _spec(tmp_path, machine="generic-slurm", launcher="mpirun", mpi="mpich",
                 nodes=2, gpus_per_node=2)
    script = plan(spec)[1].script
    assert "CUDA_VISIBLE_DEVICES=\"${MPI_LOCALRANKID}\"" in script


# -- a generic Slurm profile does not know the node: the cluster is asked (sinfo) ----------
# These use a FAKE sinfo put first on PATH: the real one would ask the shared localhost
# Slurm cluster, which only test_slurm.py starts.


def _fake_sinfo(tmp_path: Path, monkeypatch, body: str) -> Path:
    """A fake `sinfo` running shell `body`; returns the file its arguments are logged to."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "sinfo-args"
    sinfo = bindir / "sinfo"
    sinfo.write_text(f'#!/bin/sh\necho "$@" >> {log}\n{body}\n')
    sinfo.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_generic_slurm_asks_sinfo_for_the_default_partitions_cpus(tmp_path, monkeypatch):
    log = _fake_sinfo(tmp_path, monkeypatch, "printf 'debug* 64\\ngpu 128+\\n'")
    spec = _spec(tmp_path, machine="generic-slurm", gpus_per_node=4)
    assert spec.resources.cpus_per_rank == 16  # 64 CPUs of the default partition / 4 ranks
    assert log.read_text() == "--noheader --format=%P %c\n"
    script = plan(spec)[1].script
    assert "--cpus-per-task=16 --gpus-per-task=1" in script
    assert "# note: 16 CPU core(s) per rank: sinfo: 64 CPUs per node (partition debug), " \
           "4 rank(s) per node\n" in script


def test_generic_slurm_asks_for_the_partition_in_use_and_fits_the_smallest_node(
        tmp_path, monkeypatch):
    log = _fake_sinfo(tmp_path, monkeypatch, "printf 'gpu 128+\\ngpu 96\\n'")
    spec = _spec(tmp_path, machine="generic-slurm", ranks_per_node=4, partition="gpu")
    assert spec.resources.cpus_per_rank == 24
    assert log.read_text() == "--noheader --format=%P %c --partition=gpu\n"


@pytest.mark.parametrize(("body", "why"), [
    ("echo 'sinfo: error: Unable to contact slurm controller' >&2; exit 1",
     "sinfo failed: sinfo: error: Unable to contact slurm controller"),
    ("echo 'PARTITION CPUS'", "sinfo listed no nodes"),
])
def test_generic_slurm_falls_back_to_one_core_and_says_why(tmp_path, monkeypatch, body, why):
    _fake_sinfo(tmp_path, monkeypatch, body)
    spec = _spec(tmp_path, machine="generic-slurm", ranks_per_node=4)
    assert spec.resources.cpus_per_rank == 1
    assert spec.notes == (f"1 CPU core per rank: the node's size is unknown ({why}); "
                          "give --cpus-per-rank to use more",)
    assert f"# note: {spec.notes[0]}\n" in plan(spec)[1].script


def test_without_sinfo_the_fallback_says_so_on_submit(tmp_path, monkeypatch, cli_inproc):
    monkeypatch.setattr(build, "SINFO", "sinfo-absent")
    (tmp_path / "x.py").write_text("")
    res = cli_inproc("submit", "--machine", "generic-slurm", "--dry-run", "x.py", cwd=tmp_path)
    assert res.returncode == 0 and "--cpus-per-task=1 " in res.stdout
    assert res.stderr == ("hpcarray submit: note: 1 CPU core per rank: the node's size is "
                          "unknown (sinfo-absent not found on PATH); give --cpus-per-rank "
                          "to use more\n")


def test_sinfo_is_not_asked_where_the_answer_is_known(tmp_path, monkeypatch):
    log = _fake_sinfo(tmp_path, monkeypatch, "printf 'debug* 64\\n'")
    assert _spec(tmp_path, machine="generic-slurm", cpus_per_rank=3).resources.cpus_per_rank == 3
    assert _spec(tmp_path, gpus_per_node=4).notes == ()  # dgx-superpod: the profile's cores
    assert _spec(tmp_path, machine="generic-lsf").resources.cpus_per_rank == 1  # not Slurm
    assert not log.exists()
