"""Bad input ends with one line on stderr and exit status 2, never a traceback.

Most cases run in-process (quick; an exception would fail the test); those that involve
the submit command itself run ``python -m hpcarray.cli`` in a subprocess, as a user would.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

BAD = {
    "unknown-machine": (["--machine", "nosuch"], "unknown machine 'nosuch'"),
    "too-many-gpus": (["--machine", "perlmutter", "--gpus-per-node", "8"], "exceeds the 4 GPUs"),
    "too-many-cores": (
        ["--machine", "summit", "--ranks-per-node", "6", "--cpus-per-rank", "8"],
        "exceed the 42 cores",
    ),
    "env-no-equals": (["--machine", "local", "--env", "NOEQUALS"], "malformed --env 'NOEQUALS'"),
    "env-bad-key": (["--machine", "local", "--env", "1BAD=x"], "malformed --env key '1BAD'"),
    "env-bad-setting": (
        ["--machine", "local", "--env", "HPCARRAY_WORKERS=abc"],
        "bad --env HPCARRAY_WORKERS='abc': not an integer",
    ),
    "bad-time": (["--machine", "generic-slurm", "--time", "soon"], "invalid --time 'soon'"),
    "bad-time-fields": (
        ["--machine", "generic-slurm", "--time", "25:99:99"],
        "invalid --time '25:99:99': minutes must be below 60",
    ),
    "bad-time-hours": (["--machine", "generic-slurm", "-t", "1-24"], "hours must be below 24"),
    "zero-nodes": (["--machine", "generic-slurm", "--nodes", "0"], "--nodes must be a positive"),
    "nodes-not-int": (["--nodes", "many"], "invalid int value: 'many'"),
    "unknown-option": (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    "bad-choice": (["--launcher", "aprun"], "invalid choice: 'aprun'"),
    "jsrun-on-slurm": (
        ["--machine", "generic-slurm", "--launcher", "jsrun"],
        "launcher jsrun does not work with scheduler slurm",
    ),
    "local-many-nodes": (["--machine", "local", "--nodes", "2"], "runs on one node"),
    "qos-on-lsf": (["--machine", "summit", "--qos", "high"], "LSF has no QoS"),
    "hostile-job-name": (["--machine", "generic-slurm", "--job-name", "a;b"], "invalid --job-name"),
    "hostile-partition": (
        ["--machine", "generic-slurm", "--partition", "x\n#SBATCH --uid=0"],
        "invalid --partition",
    ),
    "bad-launcher-extra": (["--machine", "generic-slurm", "--launcher-extra", "'"], "malformed"),
}


def check_one_line_error(res, expect: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert expect in lines[0], lines[0]
    assert "error" in lines[0]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input(case: str, cli_inproc, workdir: Path) -> None:
    options, expect = BAD[case]
    res = cli_inproc("submit", *options, "--dry-run", "rank_info.py", cwd=workdir)
    check_one_line_error(res, expect)


def test_missing_script(cli, workdir: Path) -> None:
    res = cli("submit", "--machine", "generic-slurm", "--dry-run", "nosuch.py", cwd=workdir)
    check_one_line_error(res, "script not found: nosuch.py")


def test_no_script(cli, workdir: Path) -> None:
    res = cli("submit", "--machine", "generic-slurm", "--dry-run", cwd=workdir)
    check_one_line_error(res, "no SCRIPT given")


def _fake_command(bindir: Path, name: str, body: str) -> None:
    path = bindir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_failing_sbatch(cli, workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A submit command that fails: its last message comes back on one line, status 2."""
    bindir = tmp_path_factory.mktemp("bin")
    _fake_command(
        bindir,
        "sbatch",
        'echo "sbatch: error: Batch job submission failed: Invalid account" >&2; exit 1',
    )
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    res = cli("submit", "--machine", "generic-slurm", "rank_info.py", cwd=workdir, env=env)
    check_one_line_error(res, "sbatch failed (exit 1): sbatch: error: Batch job submission")
    assert not (workdir / ".hpcarray" / "jobs.jsonl").exists()


def test_fake_bsub_submits(cli, workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """LSF test double: a fake bsub reading the script on stdin, as the real one does."""
    bindir = tmp_path_factory.mktemp("bin")
    seen = bindir / "seen.sh"
    _fake_command(bindir, "bsub", f'cat > {seen}; echo "Job <4242> is submitted to queue <batch>."')
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    res = cli("submit", "--machine", "summit", "rank_info.py", cwd=workdir, env=env)
    assert res.returncode == 0, res.stderr
    assert "submitted job 4242 (lsf)" in res.stdout
    assert "#BSUB -nnodes 1" in seen.read_text()
    assert "rank_info-4242.out" in res.stdout


def test_missing_scheduler_command(cli, workdir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "emptybin"
    empty.mkdir()
    res = cli(
        "submit", "--machine", "summit", "rank_info.py", cwd=workdir, env={"PATH": str(empty)}
    )
    check_one_line_error(res, "bsub not found")


def test_broken_user_profile(cli_inproc, workdir: Path, tmp_path: Path) -> None:
    machines = tmp_path / "machines"
    machines.mkdir()
    (machines / "broken.yaml").write_text("scheduler: [unclosed\n")
    (machines / "badchoice.yaml").write_text("scheduler: pbs\n")
    env = {"HPCARRAY_MACHINES_DIR": str(machines)}
    res = cli_inproc(
        "submit", "--machine", "broken", "--dry-run", "rank_info.py", cwd=workdir, env=env
    )
    check_one_line_error(res, "invalid YAML")
    res = cli_inproc(
        "submit", "--machine", "badchoice", "--dry-run", "rank_info.py", cwd=workdir, env=env
    )
    check_one_line_error(res, "scheduler must be one of")


def test_jobs_unknown_id(cli, workdir: Path) -> None:
    check_one_line_error(cli("jobs", "status", "12345", cwd=workdir), "no jobs recorded")
    (workdir / ".hpcarray").mkdir()
    (workdir / ".hpcarray" / "jobs.jsonl").write_text('{"id": "1", "scheduler": "slurm"}\n')
    check_one_line_error(cli("jobs", "cancel", "99", cwd=workdir), "no job '99' recorded")
    check_one_line_error(cli("jobs", "frob", cwd=workdir), "invalid choice")
