"""The pages made from the code (docs/api.md, docs/machines.md) are current, the API table
covers NumPy's namespace as installed, and its classification matches what the code does
when the functions are called."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import hpcarray as hp
from hpcarray import FallbackWarning, _fallback

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_generated_pages_are_current(generate):
    # Fails when NumPy gains or loses a name, a function changes status or a machine
    # profile changes, until `python docs/generate.py` is run and its output committed.
    for name, make in generate.PAGES.items():
        assert (DOCS / name).read_text() == make(), \
            f"docs/{name} is stale: run `python docs/generate.py` and commit it"


def test_api_table_lists_every_numpy_name(generate):
    listed = set(re.findall(r"^\| `([\w.]+)` \|", (DOCS / "api.md").read_text(), re.M))
    for sub in generate.MODULES:
        module = getattr(np, sub) if sub else np
        prefix = f"numpy.{sub}." if sub else "numpy."
        missing = {prefix + n for n in generate.public_functions(module)} - listed
        assert not missing, f"not in docs/api.md: {sorted(missing)[:10]}"
    methods = {f"ndarray.{n}" for n in dir(np.ndarray)
               if not n.startswith("_") and callable(getattr(np.ndarray, n))}
    assert methods <= listed


@pytest.fixture(autouse=True)
def _warn_again(monkeypatch):
    """FallbackWarning comes once per function and process: forget earlier tests' ones."""
    monkeypatch.setattr(_fallback, "_warned", set())


def _fell_back(call) -> bool:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        call()
    return any(issubclass(w.category, FallbackWarning) for w in seen)


def _a():
    return hp.arange(12.0).reshape(3, 4)


def _tofile_devnull():
    # (an open file: the path of a device is written by NumPy, in place, not renamed over)
    with open(__import__("os").devnull, "wb") as f:
        _a().tofile(f)


# (table name, a call of it) for each status; the table must say what the call does.
CALLS = {
    "numpy.sum": lambda: hp.sum(_a()),
    "numpy.concatenate": lambda: hp.concatenate([_a(), _a()]),
    "numpy.sort": lambda: hp.sort(_a()),
    "numpy.unique": lambda: hp.unique(_a()),
    "numpy.histogram": lambda: hp.histogram(_a()),
    "numpy.diag": lambda: hp.diag(_a()),
    "numpy.linalg.solve": lambda: hp.linalg.solve(hp.eye(3), hp.ones(3)),
    "numpy.linalg.norm": lambda: hp.linalg.norm(_a()),
    "numpy.random.normal": lambda: hp.random.normal(size=5),
    "numpy.fft.fft": lambda: hp.fft.fft(_a()),
    "ndarray.sum": lambda: _a().sum(),
    "ndarray.sort": lambda: _a().sort(),
    "ndarray.searchsorted": lambda: hp.arange(5.0).searchsorted(2.5),
    "ndarray.partition": lambda: _a().partition(1),
    "ndarray.tofile": lambda: _tofile_devnull(),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_status_matches_what_the_call_does(generate, name):
    status = dict(re.findall(r"^\| `([\w.]+)` \| ([^|]+) \|", (DOCS / "api.md").read_text(),
                             re.M))[name].strip()
    assert status in (generate.NATIVE, generate.ONE_RANK, generate.FALLBACK)
    assert _fell_back(CALLS[name]) == (status == generate.FALLBACK), (name, status)


def test_marked_and_missing(generate):
    rows = {n: s for section in generate.api_rows().values() for n, s in section}
    assert rows["solve"] == rows["ix_"] == rows["shuffle"] == generate.ONE_RANK
    assert rows["resize"] == generate.MISSING  # ndarray.resize (np.resize is native)
    assert generate.function_status(np.resize, hp.resize) == generate.NATIVE
    assert rows["fftfreq"] == generate.FALLBACK  # hpcarray.fft: NumPy's, through the fallback
