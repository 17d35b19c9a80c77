"""The `hpcarray` command line: what follows the script is the script's, exactly as
`python script.py ARGS` passes it; bad settings and scripts are one line, exit status 2,
before anything runs; directories with a __main__.py run as Python runs them.

Most cases call hpcarray.cli.main in this process (the real parser and checks; fast); the
scripts' sys.argv are compared with those of a real `python script` subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpcarray.cli import main
from hpcarray.runtime.config import SettingError, Settings

SHOW_ARGV = "import json, sys\nprint('ARGV=' + json.dumps(sys.argv))\n"


@pytest.fixture
def hpcarray_cmd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd):
    """`hpcarray_cmd(*args, env=...)` -> (exit status, stdout, stderr), run in tmp_path;
    what `hpcarray run` changes in this process (environment, sys.argv, sys.path) is
    restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        os.environ.update(env or {})
        capfd.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capfd.readouterr()
        return code, out, err

    (tmp_path / "show.py").write_text(SHOW_ARGV)
    return run


def python_argv(script: str, args: list[str], cwd: Path) -> list[str]:
    out = subprocess.run([sys.executable, script, *args], cwd=cwd, capture_output=True,
                         text=True, check=True).stdout
    return _argv(out)


def _argv(out: str) -> list[str]:
    return json.loads(next(x for x in out.splitlines() if x.startswith("ARGV="))[5:])


def one_line_error(result: tuple[int, str, str], *expect: str) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "error" in lines[0] and all(e in lines[0] for e in expect), lines[0]
    assert "ARGV=" not in out  # nothing ran
    return lines[0]


SCRIPT_ARGS = [
    ["--n", "5"], ["--n=5"], ["--w", "3"], ["--e"], ["-n", "3", "--workers", "2"],
    ["--", "--x", "y"], ["a", "--", "b", "--"], ["--profile"], ["-h"], ["--version"], [],
]


@pytest.mark.parametrize("args", SCRIPT_ARGS, ids=" ".join)
def test_run_passes_what_follows_the_script(hpcarray_cmd, tmp_path: Path, args) -> None:
    code, out, err = hpcarray_cmd("run", "--workers", "1", "show.py", *args)
    assert code == 0, err
    assert _argv(out) == python_argv("show.py", args, tmp_path)


def test_run_options_before_the_script(hpcarray_cmd, tmp_path: Path) -> None:
    """`--profile` right before the script takes no directory; `--` ends the options."""
    code, out, err = hpcarray_cmd("run", "--profile", "show.py", "--n", "5")
    assert code == 0, err
    assert _argv(out) == ["show.py", "--n", "5"]
    assert os.environ["HPCARRAY_PROFILE"] == str(tmp_path / "hpcarray_prof")
    code, out, err = hpcarray_cmd("run", "--window", "9", "--", "show.py", "--", "-x")
    assert code == 0, err
    assert _argv(out) == ["show.py", "--", "-x"] and os.environ["HPCARRAY_WINDOW"] == "9"


def test_no_prefix_matching(hpcarray_cmd) -> None:
    one_line_error(hpcarray_cmd("run", "--work", "3", "show.py"), "unrecognized arguments: --work")
    one_line_error(hpcarray_cmd("submit", "--mach", "local", "show.py"), "--mach")


def test_submit_passes_what_follows_the_script(hpcarray_cmd) -> None:
    args = ["--n", "5", "--p", "3", "--m=2", "--", "--t"]
    code, out, err = hpcarray_cmd("submit", "--machine", "local", "--dry-run", "show.py", *args)
    assert code == 0, err
    command = next(x for x in out.splitlines() if "show.py" in x and "python" in x)
    assert command.endswith("show.py --n 5 --p 3 --m=2 -- --t"), command


@pytest.mark.parametrize("option, expect", [
    (["--workers", "0"], "--workers 0: must be from 1 to"),
    (["--workers=-1"], "--workers -1: must be from 1 to"),
    (["--workers", "100000"], "--workers 100000: must be from 1 to"),
    (["--window", "0"], "--window 0: must be at least 1"),
    (["--window=-5"], "--window -5: must be at least 1"),
])
def test_run_bad_option(hpcarray_cmd, option, expect) -> None:
    one_line_error(hpcarray_cmd("run", *option, "show.py"), expect)


# A bad value for every HPCARRAY_* setting the runtime reads.
BAD_ENV = {
    "HPCARRAY_WORKERS": "abc", "HPCARRAY_MIN_SPLIT": "0", "HPCARRAY_TEST": "maybe",
    "HPCARRAY_TEST_TILES": "1", "HPCARRAY_WINDOW": "-5", "HPCARRAY_WINDOW_BYTES": "1e6",
    "HPCARRAY_EAGER": "2", "HPCARRAY_DATAFLOW": "yes please", "HPCARRAY_EVENT": "y",
    "HPCARRAY_NVTX": "enabled", "HPCARRAY_FUSION": "of", "HPCARRAY_JIT": "sometimes",
    "HPCARRAY_POOL_BYTES": "-2", "HPCARRAY_SWITCH_INTERVAL_US": "-1",
    "HPCARRAY_BLAS_THREADS": "0", "HPCARRAY_CHECK_SPMD": "x", "HPCARRAY_PRINT_ALL_RANKS": "x",
    "HPCARRAY_PROFILE": "show.py/prof", "HPCARRAY_BACKEND": "tpu",
    "HPCARRAY_GPU_MEMORY": "-1", "HPCARRAY_STALL_SECONDS": "soon",
}


def test_every_setting_is_checked() -> None:
    from hpcarray.runtime.config import _FROM_ENV

    assert set(BAD_ENV) == {name for name, _ in _FROM_ENV.values()}


@pytest.mark.parametrize("name", sorted(BAD_ENV))
def test_run_bad_environment(hpcarray_cmd, name: str) -> None:
    value = BAD_ENV[name]
    one_line_error(hpcarray_cmd("run", "show.py", env={name: value}), f"{name}={value!r}")
    with pytest.raises(SettingError, match=f"^{name}="):
        Settings.from_env({name: value})


def test_python_script_bad_environment_fails_at_import(tmp_path: Path) -> None:
    """`python script.py`: a SettingError at `import hpcarray`, naming the variable, with
    no runtime frames."""
    (tmp_path / "x.py").write_text("import hpcarray as np\nprint(np.ones(3).sum())\n")
    for name, value in [("HPCARRAY_WORKERS", "abc"), ("HPCARRAY_PROFILE", "x.py/prof")]:
        res = subprocess.run([sys.executable, "x.py"], cwd=tmp_path, capture_output=True,
                             text=True, env={**os.environ, name: value})
        assert res.returncode == 1 and not res.stdout
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith(f"hpcarray.runtime.config.SettingError: {name}={value!r}: ")
        assert 'x.py", line 1' in res.stderr and "core.py" not in res.stderr, res.stderr


def test_run_profile_directory_unwritable(hpcarray_cmd, tmp_path: Path) -> None:
    """Checked before the script runs (it was found at exit: trace lost, status 0)."""
    bad = str(tmp_path / "show.py" / "prof")
    one_line_error(hpcarray_cmd("run", "--profile", bad, "show.py"),
                   f"--profile {bad}: cannot write there")
    one_line_error(hpcarray_cmd("run", "show.py", env={"HPCARRAY_PROFILE": bad}),
                   f"HPCARRAY_PROFILE={bad!r}: cannot write there")
    code, _, err = hpcarray_cmd("run", "--profile", "new/dir", "show.py")
    assert code == 0 and (tmp_path / "new" / "dir").is_dir(), err  # made when missing


def test_run_directory_with_main(hpcarray_cmd, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "__main__.py").write_text("import helper\n")
    (app / "helper.py").write_text(SHOW_ARGV)  # importable: the directory is on sys.path
    code, out, err = hpcarray_cmd("run", "app", "--n", "1")
    assert code == 0, err
    assert _argv(out) == python_argv("app", ["--n", "1"], tmp_path) == ["app", "--n", "1"]
    (tmp_path / "empty").mkdir()
    one_line_error(hpcarray_cmd("run", "empty"), "can't find '__main__' module in 'empty'")


def test_run_missing_script(hpcarray_cmd) -> None:
    one_line_error(hpcarray_cmd("run", "nosuch.py", "--n", "2"), "can't open file 'nosuch.py'")
