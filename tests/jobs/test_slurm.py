"""Real Slurm jobs on the localhost cluster (two emulated nodes, two fake GPUs each).

The ``slurm_cluster`` fixture (conftest.py) starts slurmctld, two slurmd's and slurmdbd once
per session; these tests submit through ``hpcarray submit`` / ``hpcarray.jobs.submit`` with
sbatch and srun exactly as on a cluster.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import hpcarray.jobs as jobs
import pytest
from hpcarray.jobs import tracking
from hpcarray.jobs.job import find_record

pytestmark = pytest.mark.slurm

EXPECTED_CHECKSUM = 499500  # sum(range(1000)); rank r prints it times r + 1


def _ranks(out: str) -> dict[int, dict[str, str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("rank="):
            fields = dict(f.split("=", 1) for f in line.split(" args=")[0].split())
            fields["args"] = line.split(" args=", 1)[1]
            rows[int(fields["rank"])] = fields
    return rows


def _check_four_ranks(out: str, args: str) -> dict[int, dict[str, str]]:
    rows = _ranks(out)
    assert sorted(rows) == [0, 1, 2, 3], out
    for r, row in rows.items():
        assert row["size"] == "4"
        assert int(row["checksum"]) == EXPECTED_CHECKSUM * (r + 1)
        assert row["args"] == args
    assert {rows[r]["node"] for r in rows} == {"n1", "n2"}
    for node in ("n1", "n2"):
        here = [row for row in rows.values() if row["node"] == node]
        assert sorted(row["local"] for row in here) == ["0", "1"]
    return rows


def test_two_nodes_two_ranks_cli(slurm_cluster: Path, cli, workdir: Path) -> None:
    """--nodes 2 --ranks-per-node 2 --gpus-per-node 2: one rank per fake GPU, srun --mpi=pmi2."""
    res = cli(
        "submit", "--machine", "generic-slurm", "--nodes", "2", "--ranks-per-node", "2",
        "--gpus-per-node", "2", "--time", "5", "--wait", "--poll", "0.5",
        "rank_info.py", "; rm -rf ~", "$(touch pwned)", cwd=workdir,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    # --wait follows the job's states (a short job may finish between two polls, so
    # RUNNING need not show) to its end.
    assert re.search(r"job \d+: (PENDING|RUNNING)", res.stderr), res.stderr
    assert "COMPLETED, exit code 0" in res.stderr, res.stderr
    job_id = re.search(r"submitted job (\d+) \(slurm\)", res.stdout).group(1)
    out = (workdir / "hpcarray_jobs" / f"rank_info-{job_id}.out").read_text()
    rows = _check_four_ranks(out, "; rm -rf ~|$(touch pwned)")
    for row in rows.values():  # --gpus-per-task=1: each rank sees only its own GPU
        assert row["gpus"] == row["local"], out
    assert not list(workdir.glob("pwned"))
    script = (workdir / "hpcarray_jobs" / "rank_info.sbatch").read_text()
    assert "srun --kill-on-bad-exit=1 --mpi=pmi2" in script and "--gpus-per-task=1" in script

    listing = cli("jobs", "list", cwd=workdir).stdout
    assert re.search(rf"^{job_id}\s+slurm\s+rank_info\s+COMPLETED\s+0", listing, re.M), listing
    status = cli("jobs", "status", job_id, cwd=workdir).stdout
    assert f"{job_id} COMPLETED exit=0" in status
    logs = cli("jobs", "logs", job_id, "-n", "2", cwd=workdir).stdout
    assert len(logs.strip().splitlines()) == 2


def test_python_api_user_profile_local_rank_binding(
    slurm_cluster: Path, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user machine profile (HPCARRAY_MACHINES_DIR) choosing GPU by SLURM_LOCALID."""
    d = tmp_path / "machines"
    d.mkdir()
    (d / "testbox.yaml").write_text(
        "scheduler: slurm\nlauncher: srun\nmpi: mpich\ngpus_per_node: 2\ncores_per_node: 2\n"
        "gpu_bind: local-rank\n"
    )
    monkeypatch.setenv("HPCARRAY_MACHINES_DIR", str(d))
    job = jobs.submit("rank_info.py", "x", machine="testbox", nodes=2, workdir=str(workdir))
    st = job.wait(timeout=90, poll=0.5)
    assert (st.state, st.exit_code, job.state) == ("COMPLETED", 0, "COMPLETED"), job.stdout()
    rows = _check_four_ranks(job.stdout(), "x")
    for row in rows.values():
        assert row["gpus"] == row["local"]
    assert "hpcarray-gpu-select" in Path(job.record["batch_script"]).read_text()

    # once slurmctld forgets a job, its state comes from accounting (sacct)
    real_run = tracking._run

    def no_scontrol(argv, timeout=30):
        return None if argv[0] == "scontrol" else real_run(argv, timeout)

    monkeypatch.setattr(tracking, "_run", no_scontrol)
    deadline = time.monotonic() + 30
    fresh = jobs.Job(job.record)
    while fresh.status().state != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.5)
        fresh = jobs.Job(job.record)
    assert (fresh.state, fresh.exit_code) == ("COMPLETED", 0)


def test_cancel_running_job(slurm_cluster: Path, cli, workdir: Path) -> None:
    res = cli(
        "submit", "--machine", "generic-slurm", "--nodes", "2", "--ranks-per-node", "2",
        "sleep.py", cwd=workdir,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    job_id = re.search(r"submitted job (\d+)", res.stdout).group(1)
    job = jobs.Job(find_record(job_id, workdir))
    deadline = time.monotonic() + 60
    while (
        job.state != "RUNNING" or "sleeping" not in job.stdout()
    ) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert job.state == "RUNNING"
    res = cli("jobs", "cancel", job_id, cwd=workdir)
    assert res.returncode == 0, res.stderr
    st = job.wait(timeout=60, poll=0.5)
    assert st.state == "CANCELLED"
    res = cli("jobs", "status", job_id, "--wait", "--poll", "0.5", cwd=workdir)
    assert res.returncode != 0 and "CANCELLED" in res.stderr


def test_failing_job_reports_error(slurm_cluster: Path, cli, workdir: Path) -> None:
    """A rank that raises: non-zero status, and the traceback comes back on stderr."""
    res = cli(
        "submit", "--machine", "generic-slurm", "--nodes", "2", "--ranks-per-node", "2",
        "--wait", "--poll", "0.5", "fail.py", cwd=workdir,
    )  # fmt: skip
    assert res.returncode == 1, res.stdout + res.stderr
    assert "FAILED, exit code 1" in res.stderr
    assert "Traceback" in res.stderr
    assert "RuntimeError: deliberate failure on rank 1" in res.stderr
    job_id = re.search(r"submitted job (\d+)", res.stdout).group(1)
    job = jobs.Job(find_record(job_id, workdir))
    assert (job.state, job.exit_code) == ("FAILED", 1)


def test_stencil_on_two_nodes_over_mpi(slurm_cluster: Path, cli, workdir: Path) -> None:
    """The hpcarray stencil as a real 4-rank MPI job (srun --mpi=pmi2, the mpich wheel):
    it completes, prints one checksum (rank 0), equal to NumPy's on one process."""
    pytest.importorskip("mpi4py")
    root = Path(__file__).resolve().parents[2] / "examples"
    for name in ("stencil.py", "_common.py"):
        shutil.copy(root / name, workdir / name)
    args = ["--package", "hpcarray", "-n", "60", "--iters", "5"]
    for attempt in range(2):
        res = cli(
            "submit", "--machine", "generic-slurm", "--nodes", "2", "--ranks-per-node", "2",
            "--time", "5", "--wait", "--poll", "0.5", "stencil.py", *args, cwd=workdir,
        )  # fmt: skip
        assert re.search(r"submitted job (\d+) \(slurm\)", res.stdout), res.stdout
        # (a second submission is stencil-1.sbatch, its output stencil-1-<id>.out)
        out = Path(re.search(r"^output: (\S+)", res.stdout, re.M).group(1)).read_text()
        # This emulated cluster's Slurm 22.05 pmi2 plugin now and then garbles the long
        # MPI_Init key-value puts of the mpich wheel's UCX addresses when the host is busy
        # ("mpi/pmi2: value not properly terminated in client request"; seen in 2 of 4
        # full CI runs, never alone). That failure is before any hpcarray code: one retry.
        if res.returncode == 0 or attempt or "mpi/pmi2: invalid client request" not in out:
            break
    assert res.returncode == 0, res.stdout + res.stderr + out
    assert out.count("checksum:") == 1, out
    got = float(re.search(r"checksum: (\S+)", out).group(1))
    ref = subprocess.run([sys.executable, str(workdir / "stencil.py"), "--package", "numpy",
                          *args], capture_output=True, text=True, check=True).stdout
    assert got == pytest.approx(float(re.search(r"checksum: (\S+)", ref).group(1)), rel=1e-12)
