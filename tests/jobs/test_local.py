"""Jobs without a scheduler (``--scheduler none``): run here, detached, followed by the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import hpcarray.jobs as jobs
import pytest
from hpcarray.jobs.launchers import find_mpiexec

HOSTILE = ["; rm -rf ~", "$(touch pwned)", "`touch pwned2`", "a'b", 'q"q', "two words", "*"]


def _json_line(text: str) -> dict:
    return json.loads(next(line for line in text.splitlines() if line.startswith("{")))


def test_local_quoting_and_profiling(cli, workdir: Path) -> None:
    """Hostile arguments and env values arrive unchanged; profiling flags reach the rank."""
    res = cli(
        "submit", "--machine", "local", "--wait", "--poll", "0.2",
        "--env", "HOSTILE=$(touch pwned3); `id` \"x\"",
        "--profile", "profdir", "--dataflow", "--event",
        "show_args.py", *HOSTILE, cwd=workdir,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "COMPLETED" in res.stderr
    job = jobs.Job(json.loads((workdir / ".hpcarray" / "jobs.jsonl").read_text()))
    got = _json_line(job.stdout())
    assert got["argv"] == HOSTILE
    assert got["hostile"] == '$(touch pwned3); `id` "x"'
    assert got["hpcarray"]["HPCARRAY_PROFILE"] == "profdir"
    assert got["hpcarray"]["HPCARRAY_DATAFLOW"] == "1"
    assert got["hpcarray"]["HPCARRAY_EVENT"] == "1"
    assert not list(workdir.glob("pwned*"))


def test_bare_profile_before_script(cli, workdir: Path) -> None:
    """``--profile show_args.py`` means: profile into the default directory, run show_args.py."""
    res = cli(
        "submit", "--machine", "local", "--wait", "--poll", "0.2", "--profile", "show_args.py",
        "x", cwd=workdir,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = next(workdir.glob("hpcarray_jobs/*.out")).read_text()
    got = _json_line(out)
    assert got["argv"] == ["x"] and got["hpcarray"]["HPCARRAY_PROFILE"] == "hpcarray_prof"


def test_run_profile_before_script_runs_the_script(cli, workdir: Path) -> None:
    """The README's first command: ``hpcarray run --profile stencil.py`` profiles into the
    default directory and runs the script with its arguments; ``--profile DIR`` still
    names the directory."""
    stencil = str(Path(__file__).resolve().parents[2] / "examples" / "stencil.py")
    res = cli("run", "--profile", stencil, "--size", "40", "--iters", "2", cwd=workdir)
    assert res.returncode == 0, res.stderr
    assert "checksum:" in res.stdout
    assert (workdir / "hpcarray_prof" / "timeline.html").exists()
    res = cli("run", "--profile", "mine", stencil, "--size", "40", cwd=workdir)
    assert res.returncode == 0, res.stderr
    assert (workdir / "mine" / "timeline.html").exists()


def test_local_failure_surfaces_traceback(cli, workdir: Path) -> None:
    res = cli(
        "submit", "--machine", "local", "--wait", "--poll", "0.2", "--env", "SLURM_PROCID=1",
        "fail.py", cwd=workdir,
    )  # fmt: skip
    assert res.returncode == 1
    assert "FAILED" in res.stderr
    assert "Traceback" in res.stderr and "deliberate failure on rank 1" in res.stderr
    status = cli("jobs", "status", cwd=workdir)
    assert "FAILED exit=1" in status.stdout


def test_local_cancel_and_jobs_commands(cli, workdir: Path) -> None:
    res = cli("submit", "--machine", "local", "sleep.py", cwd=workdir)
    assert res.returncode == 0, res.stderr
    job_id = res.stdout.split()[2]
    job = jobs.Job(json.loads((workdir / ".hpcarray" / "jobs.jsonl").read_text()))
    assert job.id == job_id
    deadline = time.monotonic() + 20
    while "sleeping" not in job.stdout() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state == "RUNNING"
    assert job_id in cli("jobs", "list", cwd=workdir).stdout
    res = cli("jobs", "cancel", job_id, cwd=workdir)
    assert res.returncode == 0 and "cancelled" in res.stdout
    assert job.wait(timeout=10, poll=0.1).state == "CANCELLED"
    res = cli("jobs", "status", job_id, "--wait", cwd=workdir)
    assert res.returncode != 0 and "CANCELLED" in res.stderr
    assert "sleeping" in cli("jobs", "logs", job_id, cwd=workdir).stdout


def test_python_api_local(workdir: Path) -> None:
    job = jobs.submit("rank_info.py", "a b", machine="local", workdir=str(workdir))
    st = job.wait(timeout=60, poll=0.1)
    assert (st.state, st.exit_code) == ("COMPLETED", 0)
    assert "rank=0 size=1" in job.stdout() and "args=a b" in job.stdout()
    assert "checksum=499500" in job.stdout()


@pytest.mark.mpi
@pytest.mark.skipif(find_mpiexec() is None, reason="no mpiexec (pip install 'hpcarray[mpi]')")
def test_local_mpiexec_ranks(workdir: Path) -> None:
    job = jobs.submit("rank_info.py", machine="local", ranks_per_node=2, workdir=str(workdir))
    assert job.wait(timeout=120, poll=0.2).state == "COMPLETED", job.stdout()
    out = job.stdout()
    assert "rank=0 size=2" in out and "rank=1 size=2" in out


@pytest.mark.mpi
@pytest.mark.skipif(find_mpiexec() is None, reason="no mpiexec (pip install 'hpcarray[mpi]')")
def test_local_launcher_extra_goes_to_the_launcher(cli, workdir: Path) -> None:
    """One local rank with --launcher-extra: the arguments reach mpiexec (they were put
    before python: exit 127); ones it does not know fail in its words."""
    res = cli("submit", "--machine", "local", "--launcher-extra=-prepend-rank", "--wait",
              "--poll", "0.2", "show_args.py", "x", cwd=workdir)
    assert res.returncode == 0, res.stderr
    assert '[0] {"argv": ["x"]' in next(workdir.glob("hpcarray_jobs/*.out")).read_text()
    res = cli("submit", "--machine", "local", "--launcher-extra=--exclusive", "--wait",
              "--poll", "0.2", "show_args.py", cwd=workdir)
    assert res.returncode not in (0, 127) and "unrecognized argument exclusive" in res.stderr


def test_cancel_of_an_ended_job_says_so(cli, workdir: Path) -> None:
    res = cli("submit", "--machine", "local", "--wait", "--poll", "0.2", "rank_info.py",
              cwd=workdir)
    assert res.returncode == 0, res.stderr
    job_id = res.stdout.split()[2]
    res = cli("jobs", "cancel", job_id, cwd=workdir)
    assert res.returncode == 2 and not res.stdout, res.stdout
    assert f"job {job_id} has already ended (COMPLETED, exit code 0): not cancelled" in res.stderr
    assert "COMPLETED exit=0" in cli("jobs", "status", job_id, cwd=workdir).stdout
