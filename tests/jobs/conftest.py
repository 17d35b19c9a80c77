"""Fixtures for the job tests: a real localhost Slurm cluster, CLI runners, golden files.

The cluster (slurmctld, two slurmd's emulating nodes n1 and n2 with two fake GPUs each,
slurmdbd with a private MariaDB for accounting) is started once per session by
``tests/jobs/slurm/start_slurm.sh`` and stopped at the end. It needs root (and apt-get the
first time); without them the ``slurm`` tests are skipped with the reason, unless
``HPCARRAY_REQUIRE_SLURM=1`` (set it on CI) turns that into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
DATA = HERE / "data"
GOLDEN = HERE / "golden"
SLURM_SCRIPTS = HERE / "slurm"
PREFIX = Path(os.environ.get("HPC_SLURM_PREFIX", "/tmp/hpcarray-test-slurm"))


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """Run ``hpcarray ARGS`` in a fresh interpreter (as a user would) and capture it."""
    full_env = dict(os.environ)
    full_env.pop("HPCARRAY_MACHINE", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "hpcarray.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    """``cli(*args, cwd=..., env=...)``: run the hpcarray command, get a Result."""
    return run_cli


@pytest.fixture
def cli_inproc(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Like ``cli`` but in this interpreter (fast); a traceback would fail the test."""
    from hpcarray.cli import main

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
        monkeypatch.chdir(cwd)
        monkeypatch.delenv("HPCARRAY_MACHINE", raising=False)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh directory holding copies of the test programs."""
    for f in DATA.glob("*.py"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _unavailable(reason: str) -> None:
    if os.environ.get("HPCARRAY_REQUIRE_SLURM") == "1":
        pytest.fail(f"Slurm cluster required but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Path]:
    """Start the localhost Slurm cluster; yield its slurm.conf; stop it at session end."""
    if os.geteuid() != 0:
        _unavailable("the localhost Slurm cluster needs root (slurmd, munge, apt-get)")
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        _unavailable("no apt-get to install Slurm (Debian/Ubuntu only)")
    env = dict(os.environ, HPC_SLURM_PREFIX=str(PREFIX), HPC_SLURM_LINK_ETC="0")
    proc = subprocess.run(
        ["bash", str(SLURM_SCRIPTS / "start_slurm.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        subprocess.run(["bash", str(SLURM_SCRIPTS / "stop_slurm.sh")], env=env, timeout=120)
        _unavailable(f"start_slurm.sh failed: {tail}")
    conf = PREFIX / "etc" / "slurm.conf"
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    try:
        yield conf
    finally:
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
        subprocess.run(
            ["bash", str(SLURM_SCRIPTS / "stop_slurm.sh")],
            env=env,
            capture_output=True,
            timeout=120,
        )
