"""GPU jobs: one GPU per rank, the GPU backend switched on, CPU cores per rank from the
machine profile (its cores per node / ranks per node). The rendered scripts are in the
golden files (test_golden.py: machine-*, slurm-mpirun-gpus, lsf-mpirun-*)."""

from __future__ import annotations

from pathlib import Path

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
