"""What a recorded operation says about where it comes from: the user's lines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hpcarray.profiling.trace_reader import load_profile

from hpcarray.runtime.trace import source_span


def profile_of(tmp: Path, code: str | Path, *args: str, ranks: int = 1, **env_extra: str):
    """Run `code` (as prog.py; or a script's path) under `hpcarray run --profile` (test
    tiles: everything fuses); the loaded profile."""
    script = code if isinstance(code, Path) else tmp / "prog.py"
    if not isinstance(code, Path):
        script.write_text(textwrap.dedent(code).lstrip())
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPCARRAY_")}
    env.update(HPCARRAY_TEST="1", HPCARRAY_WORKERS="2", HPCARRAY_NO_RENDER="1", **env_extra)
    subprocess.run([sys.executable, "-m", "hpcarray.cli", "run", "-n", str(ranks),
                    "--profile", str(tmp / "prof"), str(script), *args],
                   env=env, check=True, capture_output=True, timeout=180, cwd=tmp)
    return load_profile(tmp / "prof")


@pytest.mark.parametrize("sources, text", [
    (["a.py:56", "a.py:57", "a.py:59", "a.py:58"], "a.py:56-59"),
    (["a.py:3", "a.py:7", "a.py:3"], "a.py:3,7"),
    (["a.py:3", "b.py:5", "a.py:4"], "a.py:3-4; b.py:5"),
    (["a.py:1", "a.py:3", "a.py:5", "a.py:7", "a.py:9"], "a.py:1,3,5,7,…"),
    (["?"], "?"), ([], ""),
])
def test_source_span(sources: list[str], text: str) -> None:
    assert source_span(sources) == text


def test_fused_operation_names_its_members_lines(tmp_path: Path) -> None:
    """A fused kernel is launched where something waits (here a flush on line 6); it is
    the work of lines 2-3 and 5; the reduction fused with line 7's product is line 7."""
    prof = profile_of(tmp_path, """
        import hpcarray as np, hpcarray.runtime as rt
        a = np.ones(1000)
        b = a * 2.0
        x = 5
        c = (b + 1.0) * b
        rt.get_runtime().flush()
        print(float(np.sum(c * a)))
    """)
    srcs = {op.name: op.src for op in prof.ops.values()}
    assert srcs["fused(assign,multiply,add,multiply)"] == "prog.py:2-3,5", srcs
    assert srcs["multiply"] == "prog.py:7", srcs


def test_stencil_update_is_its_two_lines(tmp_path: Path) -> None:
    """The examples' steps are launched by a flush in _common.py: the stencil's fused
    update names its step's lines (work = ...; center[:] = work), at 1 and 2 ranks."""
    root = Path(__file__).resolve().parents[2]
    lines = (root / "examples" / "stencil.py").read_text().splitlines()
    first = next(i for i, ln in enumerate(lines, 1) if ln.strip().startswith("work = 0.2 *"))
    assert "center[:] = work" in lines[first]
    for ranks in (1, 2):
        prof = profile_of(tmp_path / str(ranks), root / "examples" / "stencil.py",
                          "-n", "40", "--iters", "2", ranks=ranks)
        srcs = {op.src for op in prof.ops.values()}
        assert not [s for s in srcs if "_common" in s], srcs
        fused = {op.src for op in prof.ops.values() if op.name.startswith("fused(")}
        assert fused and fused <= {f"stencil.py:{first}", f"stencil.py:{first}-{first + 1}"}, \
            fused


def test_compile_time_is_apart_from_the_operations(tmp_path: Path) -> None:
    """The first task of a compiled kernel imports numba and compiles (fresh kernel cache
    here): recorded as compile spans inside that task, shown as their own bars and summary
    line, and not counted in the operation's time."""
    from hpcarray.profiling.summary import summarize
    from hpcarray.profiling.timeline import build_figure, op_table

    prof = profile_of(tmp_path, """
        import hpcarray as np
        a = np.ones(1000)
        print(float(np.sum((a * 2.0 + 1.0) * a)))
    """, HPCARRAY_JIT="always", HPCARRAY_KERNEL_CACHE=str(tmp_path / "kernels"))
    assert prof.compiles, "no compile recorded"
    tasks = {(t.rank, t.id): t for t in prof.tasks}
    for c in prof.compiles:
        t = tasks[(c.rank, c.task)]
        assert t.op == c.op and t.proc == c.proc and t.start <= c.start <= c.end <= t.end
        assert prof.ops[c.op].name.startswith("fused(")
    compiled = sum(c.duration for c in prof.compiles)
    assert compiled > 50e6  # numba's import alone takes longer
    rows = {r["name"]: r for r in op_table(prof)}
    fused = next(r for n, r in rows.items() if n.startswith("fused("))
    fused_tasks = sum(t.duration for t in prof.tasks
                      if prof.ops[t.op].name.startswith("fused("))
    assert fused["total"] == pytest.approx(fused_tasks - compiled)
    text = summarize(prof)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("compile"))
    assert "numba" in line and "1 operation(s)" in line, text
    fig, _ = build_figure(prof)
    bars = [tr for tr in fig["data"] if tr.get("name") == "numba compile"]
    assert len(bars) == 1 and bars[0]["line"]["color"] not in {
        tr["line"]["color"] for tr in fig["data"] if tr.get("meta") == "bars"}
