"""`hpcarray profile DIR` and the nsys helper."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
from hpcarray.profiling import cli
from hpcarray.profiling.nsys import check_nsys, nsys_prefix
from prof_synth import make_chain_join


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hpcarray")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_profile_rerenders_everything(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_chain_join(tmp_path, nranks=2)
    assert run_cli(["profile", str(tmp_path), "--no-pdf"]) == 0
    out = capsys.readouterr().out
    assert "2 rank(s), 20 tasks, 4 copies" in out and "timeline.html" in out
    for name in ("timeline.html", "dataflow_prog.dot", "event_graph_prog.dot"):
        assert (tmp_path / name).exists(), name
    assert not (tmp_path / "dataflow_prog.pdf").exists()


def test_profile_window_and_ranks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_chain_join(tmp_path, nranks=2)
    assert run_cli(["profile", str(tmp_path), "--ranks", "1", "--start", "0",
                    "--end", "3e-6", "--no-pdf"]) == 0
    out = capsys.readouterr().out
    assert "1 rank(s), 4 tasks, 0 copies" in out and "r1 " in out and "r0 " not in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not found")
def test_profile_writes_pdfs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_chain_join(tmp_path, nranks=2)
    assert run_cli(["profile", str(tmp_path)]) == 0
    assert (tmp_path / "dataflow_prog.pdf").stat().st_size > 0
    assert (tmp_path / "event_graph_prog.pdf").stat().st_size > 0


@pytest.mark.parametrize("extra, message", [
    (["--ranks", "x"], "--ranks wants comma-separated rank numbers"),
    (["--ranks", "5"], "no trace for rank(s) [5]"),
    (["--start", "2", "--end", "1"], "--end must be after --start"),
])
def test_profile_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                                     extra: list[str], message: str) -> None:
    make_chain_join(tmp_path)
    assert run_cli(["profile", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("hpcarray profile: error")


def test_profile_missing_dir(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli(["profile", str(tmp_path / "nope")]) == 2
    assert "profile directory not found" in capsys.readouterr().err


def test_profile_newer_format(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "trace.0.jsonl").write_text('{"type":"header","version":99,"rank":0}\n')
    assert run_cli(["profile", str(tmp_path)]) == 2
    assert "version 99 is newer" in capsys.readouterr().err


def test_nsys_prefix() -> None:
    argv = nsys_prefix("/p/prof")
    assert argv[:2] == ["nsys", "profile"]
    assert "--trace=nvtx,cuda,mpi,osrt" in argv
    assert "--output=/p/prof/nsys_rank%q{PMI_RANK}" in argv and "--mpi-impl=mpich" in argv
    assert "--output=/p/prof/nsys_rank%q{OMPI_COMM_WORLD_RANK}" in nsys_prefix(
        "/p/prof", launcher="openmpi")
    slurm = nsys_prefix("/p/prof", launcher="srun")
    assert "--output=/p/prof/nsys_rank%q{SLURM_PROCID}" in slurm
    assert not [a for a in slurm if a.startswith("--mpi-impl")]
    assert "--output=out/nsys_rank3" in nsys_prefix("out", rank=3)
    assert "--trace=nvtx,osrt" in nsys_prefix("o", trace=("nvtx", "osrt"))


def test_check_nsys() -> None:
    assert check_nsys(lambda name: None) is not None
    assert "nsys" in (check_nsys(lambda name: None) or "")
    assert check_nsys(lambda name: "/usr/bin/nsys") is None


def test_registered_in_hpcarray_cli() -> None:
    main_cli = pytest.importorskip("hpcarray.cli")
    try:
        parser = main_cli.build_parser()
    except ImportError as e:  # the rest of the command line is still being written
        pytest.skip(f"hpcarray.cli not complete yet: {e}")
    args = parser.parse_args(["profile", "somewhere", "--no-pdf"])
    assert args.func is cli.run and args.no_pdf


@pytest.mark.parametrize("cut", ["mid-line", "at a line's end"])
def test_profile_of_a_truncated_trace_warns(tmp_path: Path, cut: str) -> None:
    """A rank killed while writing its trace: `hpcarray profile` says which file and line,
    and renders what was read."""
    import subprocess
    import sys

    make_chain_join(tmp_path, nranks=2)
    path = tmp_path / "trace.1.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    keep = len(lines) // 2
    text = "".join(lines[:keep]) + (lines[keep][:7] if cut == "mid-line" else "")
    path.write_text(text)
    res = subprocess.run([sys.executable, "-m", "hpcarray.cli", "profile", str(tmp_path),
                          "--no-pdf"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    line = keep + 1 if cut == "mid-line" else keep
    assert f"warning: {path}:{line}: trace " in res.stderr, res.stderr
    assert "2 rank(s)" in res.stdout and (tmp_path / "timeline.html").exists()
