"""Floating-point errors as NumPy reports them: the caller's errstate (np.errstate,
np.seterr, seterrcall) at the time an operation is issued, one RuntimeWarning per
operation and condition at the user's line, FloatingPointError for 'raise' (at the next
point where Python waits, naming the line, when execution was deferred).

Differential: each program runs with NumPy and with hpcarray, and the warnings (message,
category, file, line) must be the same. Three ways of running: tiny tiles (test mode),
the small-array fast path (NumPy on the caller's thread), and big arrays with compiled
kernels forced (HPCARRAY_JIT=always).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from compare import runtime_with

import hpcarray as hp

MODES = {"tiny": {}, "fast": {"test_mode": False},
         "compiled": {"test_mode": False, "jit": "always", "min_split_elements": 64}}


@pytest.fixture(params=sorted(MODES))
def mode(request):
    with runtime_with(**MODES[request.param]):
        yield request.param


def record(fn, xp):
    """The warnings `fn(xp)` gives (message, category, file, line), with its results
    as NumPy arrays (hpcarray's waited for)."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn(xp)
        out = [np.asarray(x) for x in out]
        hp.sync()
    return [(str(w.message), w.category, os.path.basename(w.filename), w.lineno)
            for w in got], out


def same_warnings(fn):
    """fn gives the same warnings and values with NumPy and with hpcarray."""
    expected, want = record(fn, np)
    got, have = record(fn, hp)
    assert got == expected
    for g, e in zip(have, want):
        np.testing.assert_array_equal(g, e)
    return got


N = 3001  # odd: 0.0 among the values; big enough for the compiled path (several tiles)


def data(xp):
    x = xp.linspace(-1.0, 1.0, N)
    return x, xp.zeros(N), xp.full(N, 1e300)


def program(xp):
    x, z, big = data(xp)
    a = x / z                       # divide by zero; invalid (0/0)
    b = xp.sqrt(x)                  # invalid in sqrt
    c = big * big                   # overflow in multiply
    d = xp.sqrt(x) + x / 2          # fused members: only sqrt's invalid
    return a, b, c, d


def test_one_warning_per_operation_at_the_users_line(mode):
    got = same_warnings(program)
    assert [m for m, *_ in got] == [
        "divide by zero encountered in divide", "invalid value encountered in divide",
        "invalid value encountered in sqrt", "overflow encountered in multiply",
        "invalid value encountered in sqrt"]
    assert {f for _, _, f, _ in got} == {"test_errstate.py"}


def test_errstate_ignore_silences(mode):
    def fn(xp):
        with xp.errstate(all="ignore"):
            return program(xp)
    assert same_warnings(fn) == []


def test_seterr_applies_to_operations_issued_under_it(mode):
    def fn(xp):
        old = xp.seterr(divide="ignore", over="ignore")
        try:
            out = program(xp)
        finally:
            xp.seterr(**old)
        x, z, _ = data(xp)
        return (*out, x / z)  # after: warns again
    got = same_warnings(fn)
    assert [m for m, *_ in got].count("divide by zero encountered in divide") == 1


def test_errstate_as_decorator(mode):
    def fn(xp):
        @xp.errstate(invalid="ignore")
        def quiet(v):
            return xp.sqrt(v)
        x, _, _ = data(xp)
        return quiet(x), xp.sqrt(x)
    got = same_warnings(fn)
    assert [m for m, *_ in got] == ["invalid value encountered in sqrt"]


def test_underflow_warns_when_asked(mode):
    def fn(xp):
        x = xp.full(N, 1e-300)
        with xp.errstate(under="warn"):
            return (x * x,)
    assert [m for m, *_ in same_warnings(fn)] == ["underflow encountered in multiply"]


def test_comparisons_with_nan_report_nothing(mode):
    def fn(xp):
        x = xp.full(N, np.nan)
        return x < 1.0, (x < 0.5) == (x > 2.0)
    assert same_warnings(fn) == []


def test_raise_names_the_users_line(mode):
    x, z, _ = data(hp)
    with pytest.raises(FloatingPointError, match="divide by zero encountered in divide") as e:
        with hp.errstate(divide="raise"):
            a = x / z; line = sys._getframe().f_lineno  # noqa: E702
            np.asarray(a)
    if mode != "fast":  # deferred: raised where Python waited, naming the line
        assert any(f"test_errstate.py:{line}" in n for n in e.value.__notes__)
    hp.sync()
    np.asarray(x / 2.0)  # the runtime goes on


def test_raise_stops_at_the_first_condition_as_numpy(mode):
    """'raise' for one condition, 'warn' for another: NumPy raises the first it handles
    in its order (divide, over, under, invalid)."""
    for xp in (np, hp):
        x, z, _ = data(xp)
        with pytest.raises(FloatingPointError, match="invalid value encountered in sqrt"):
            with xp.errstate(invalid="raise"):
                np.asarray(xp.sqrt(x))


def test_call_and_log(mode):
    def fn(xp):
        seen = []

        class Log:
            def write(self, text):
                seen.append(("log", text))
        x, z, _ = data(xp)
        with xp.errstate(all="call", call=lambda kind, flags: seen.append((kind, flags))):
            a = x / z
            xp.asarray(a).sum()
        with xp.errstate(all="log", call=Log()):
            b = xp.sqrt(x)
            xp.asarray(b).sum()
        hp.sync()
        return seen
    seen_np, seen_hp = fn(np), fn(hp)
    assert seen_hp == seen_np
    assert ("log", "Warning: invalid value encountered in sqrt\n") in seen_hp
    assert ("divide by zero", 9) in seen_hp and ("invalid value", 8) in seen_hp  # the sum


def test_warning_filters_once_per_line_as_numpy(mode):
    """The 'default' action shows a warning once per line: a loop warns once, another
    line warns again (the registry is the user module's, not hpcarray's)."""
    def fn(xp):
        x, z, _ = data(xp)
        out = []
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("default")
            for _ in range(3):
                out.append(x / z)
            out.append(x / z)
            [np.asarray(o) for o in out]
            hp.sync()
        return [(str(w.message), w.lineno) for w in got]
    assert fn(hp) == fn(np)
    assert len(fn(hp)) == 4  # 2 conditions x 2 lines


def test_warning_filter_error_raises_naming_the_line(mode):
    """-W error: NumPy's warning is an exception at the line; deferred, it is raised at
    the next wait, naming the line."""
    x, z, _ = data(hp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="divide by zero encountered in divide") as e:
            a = x / z; line = sys._getframe().f_lineno  # noqa: E702
            np.asarray(a)
    if mode != "fast":
        assert any(f"test_errstate.py:{line}" in n for n in e.value.__notes__)
    hp.sync()


def test_script_warns_once_at_its_line(tmp_path):
    """A script on big arrays (the compiled path, worker threads): NumPy's warnings, one
    per operation, at the script's lines; -W error raises at (naming) the line."""
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent("""\
        import hpcarray as np
        a = np.zeros(2_000_000)
        b = np.ones(2_000_000)
        c = b / a
        d = np.sqrt(-b)
        print(float(c.sum() + d.sum()))
        """))
    env = {k: v for k, v in os.environ.items() if k != "HPCARRAY_TEST"}
    env.update(HPCARRAY_JIT="always", HPCARRAY_WORKERS="2")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [s for s in r.stderr.splitlines() if "RuntimeWarning" in s]
    assert lines == [f"{script}:4: RuntimeWarning: divide by zero encountered in divide",
                     f"{script}:5: RuntimeWarning: invalid value encountered in sqrt"], r.stderr
    r = subprocess.run([sys.executable, "-W", "error", str(script)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 1
    assert "RuntimeWarning: divide by zero encountered in divide" in r.stderr
    assert "user.py:4" in r.stderr


def test_ignored_conditions_cost_nothing_in_compiled_kernels(monkeypatch):
    """Compiled kernels raising only conditions nobody reports (underflow, by default)
    never rerun steps to find out which raised them."""
    from hpcarray.runtime import get_runtime
    from hpcarray.runtime.backend.cpu import kernels

    if get_runtime().backend.name != "cpu":
        pytest.skip("the CPU backend's compiled kernels")
    calls = []
    recheck = kernels.Plan._recheck
    monkeypatch.setattr(kernels.Plan, "_recheck",
                        lambda self, *a: calls.append(1) or recheck(self, *a))
    with runtime_with(**MODES["compiled"]):
        x = hp.full(N, 1e-300)
        np.asarray(x * x + x * 0.5)  # multiply and add may both underflow
        assert calls == []
        with hp.errstate(under="warn"), pytest.warns(RuntimeWarning, match="underflow"):
            np.asarray(x * x + x * 0.5)
        assert calls


def test_warnings_keep_their_line_after_many_errstates(mode):
    """After more errstates than the runtime remembers (each `with np.errstate` is a new
    one), warnings still come at the operation's line, not at the next wait's."""
    x = hp.linspace(-1.0, 1.0, N)
    for _ in range(300):
        with np.errstate(all="ignore"):
            hp.sqrt(x)
    hp.sync()
    test_one_warning_per_operation_at_the_users_line(mode)
