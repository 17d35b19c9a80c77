"""Write the documentation pages that are read off the code, not written by hand.

- docs/api.md: every public function of NumPy's namespace and of numpy.linalg, numpy.random
  and numpy.fft, and every ndarray method, marked as hpcarray runs it (`api_rows`);
- docs/machines.md: the machine profiles in configs/machines/*.yaml, with the batch script
  `hpcarray submit --dry-run` writes for each.

    python docs/generate.py           # rewrite both pages
    python docs/generate.py --check   # exit 1 if a page is stale (tests/docs runs this)
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import tempfile
import textwrap
import types
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

import hpcarray
from hpcarray import _fallback
from hpcarray._replicated import is_replicated

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

NATIVE = "native"
ONE_RANK = "native on one rank"
FALLBACK = "fallback"
NUMPY = "NumPy's own"
MISSING = "missing"
MEANING = {
    NATIVE: "tiled tasks at any number of ranks",
    ONE_RANK: "native at one rank; at several, every rank runs it whole on gathered "
              "operands (marked `@replicated_across_ranks` in the code)",
    FALLBACK: "runs through NumPy on gathered data, with one `FallbackWarning` per function",
    NUMPY: "NumPy's function itself, passed through (takes no arrays, returns NumPy arrays)",
    MISSING: "not available (AttributeError)",
}
ORDER = [NATIVE, ONE_RANK, FALLBACK, NUMPY, MISSING]

# NumPy modules covered, each with the hpcarray module a program reaches it by.
MODULES = ["", "linalg", "random", "fft"]


# -- classification ----------------------------------------------------------------------


def _status_of(obj) -> str:
    """How hpcarray runs `obj`, a function it provides."""
    if getattr(obj, "__hpcarray_fallback__", False) or obj in (
            _fallback.fallback_function, _fallback.call_numpy):
        return FALLBACK
    return ONE_RANK if is_replicated(obj) else NATIVE


def function_status(np_func, hp_obj) -> str:
    """`hp_obj` is what `hpcarray.<module>.<name>` gives for NumPy's `np_func`."""
    if hp_obj is not np_func:
        return _status_of(hp_obj)
    # NumPy's own function, passed through (hpcarray.fft is numpy.fft): on hpcarray arrays
    # a ufunc dispatches to hpcarray's (__array_ufunc__), an array function to its
    # implementation if hpcarray has one, else to the fallback (__array_function__).
    if isinstance(np_func, np.ufunc):
        return NATIVE
    if isinstance(np_func, type(np.concatenate)):
        impl = _fallback._lookup(np_func)
        return FALLBACK if impl is None else _status_of(impl)
    return NUMPY


def public_functions(module) -> list[str]:
    return sorted(n for n in dir(module) if not n.startswith("_") and (
        inspect.isroutine(getattr(module, n)) or isinstance(getattr(module, n), np.ufunc)))


def _callees(fn):
    """The functions `fn`'s body calls by a name or a module attribute (`reductions.sum`,
    `hpcarray.partition`), resolved in its module and its own imports."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    names = dict(fn.__globals__)
    for node in ast.walk(tree):  # imports inside the body (`from hpcarray._api import x`)
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name] = sys.modules[a.name]
        elif isinstance(node, ast.ImportFrom) and node.module:
            mod = sys.modules[node.module]
            for a in node.names:
                names[a.asname or a.name] = getattr(mod, a.name)
    # Calls in `except` handlers are the paths for data hpcarray does not hold (strings,
    # datetimes: NumPy's own arrays by design), not how the method runs on its arrays.
    handled = {id(n) for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler)
               for n in ast.walk(h)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in handled:
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in names:
            yield names[f.id]
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                and isinstance(names.get(f.value.id), types.ModuleType):
            yield getattr(names[f.value.id], f.attr, None)


def _delegation_status(fn, seen: set) -> str | None:
    """The least native status among the hpcarray functions `fn` calls; helpers of
    _array.py are followed into. None if it calls none."""
    found = []
    for callee in _callees(fn):
        if not callable(callee) or id(callee) in seen:
            continue
        seen.add(id(callee))
        module = getattr(callee, "__module__", "") or ""
        if module == fn.__module__ and isinstance(callee, types.FunctionType):
            found.append(_delegation_status(callee, seen))
        elif module.startswith("hpcarray") or getattr(callee, "__hpcarray_fallback__", 0):
            found.append(_status_of(callee))
    found = [s for s in found if s is not None]
    return max(found, key=ORDER.index) if found else None


def method_status(name: str) -> str:
    """An ndarray method: missing, or the status of the API functions it delegates to."""
    attr = vars(hpcarray.ndarray).get(name)
    if attr is None:
        return MISSING
    return _delegation_status(attr, set()) or NATIVE


def api_rows() -> dict[str, list[tuple[str, str]]]:
    """Section title -> (name, status) rows."""
    sections = {}
    for sub in MODULES:
        np_mod = getattr(np, sub) if sub else np
        hp_mod = getattr(hpcarray, sub) if sub else hpcarray
        title = f"numpy.{sub}" if sub else "numpy"
        sections[title] = [(n, function_status(getattr(np_mod, n), getattr(hp_mod, n)))
                           for n in public_functions(np_mod)]
    methods = sorted(n for n in dir(np.ndarray) if not n.startswith("_")
                     and callable(getattr(np.ndarray, n)))
    sections["numpy.ndarray methods"] = [(n, method_status(n)) for n in methods]
    return sections


# -- pages -------------------------------------------------------------------------------

HEADER = "<!-- Generated by docs/generate.py from the code: do not edit by hand. -->\n\n"


def api_page() -> str:
    sections = api_rows()
    counts = Counter(s for rows in sections.values() for _, s in rows)
    out = [HEADER, "# API coverage\n\n",
           f"Every public function of NumPy {np.__version__}'s namespace, of `numpy.linalg`, "
           "`numpy.random` and `numpy.fft`, and every `ndarray` method, as hpcarray runs it "
           "when called on hpcarray arrays (`import hpcarray as np`). The table is made from "
           "the code (`python docs/generate.py`): the fallback wrappers, the "
           "`@replicated_across_ranks` marks (`hpcarray/_replicated.py`), "
           "`__array_function__` dispatch, and for methods the functions they call. A test "
           "fails when NumPy gains a name or the code changes until it is regenerated.\n\n",
           "| status | meaning | count |\n| --- | --- | --- |\n"]
    out += [f"| {s} | {MEANING[s]} | {counts[s]} |\n" for s in ORDER if counts[s]]
    for title, rows in sections.items():
        c = Counter(s for _, s in rows)
        summary = ", ".join(f"{c[s]} {s}" for s in ORDER if c[s])
        out.append(f"\n## {title}\n\n{len(rows)} names: {summary}.\n\n"
                   "| name | status |\n| --- | --- |\n")
        prefix = "ndarray." if title.endswith("methods") else f"{title}."
        out += [f"| `{prefix}{n}` | {s} |\n" for n, s in rows]
    return "".join(out)


def _profiles() -> list[dict]:
    return [dict(yaml.safe_load(p.read_text()), file=p.name)
            for p in sorted((ROOT / "configs" / "machines").glob("*.yaml"))]


def _dry_run(name: str, nodes: int) -> str:
    """The batch script `hpcarray submit --machine NAME --dry-run` writes, with the run
    directory shown as /home/me/run."""
    from unittest import mock

    from hpcarray.jobs import build
    from hpcarray.jobs.api import plan
    from hpcarray.jobs.build import build_spec

    # A generic Slurm profile asks the cluster for a node's CPUs (sinfo): shown as on a
    # cluster of 64-CPU nodes, whatever machine makes this page.
    cluster = (64, "sinfo: 64 CPUs per node (partition batch)")
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.object(build, "slurm_node_cpus", lambda partition: cluster):
        (Path(tmp) / "stencil.py").touch()
        spec = build_spec("stencil.py", ["--size", "4096"], machine=name, nodes=nodes,
                          python="python3", workdir=tmp, output_dir="jobs",
                          account=None if nodes == 1 else "myproject")
        sub = plan(spec)[1]
        return f"$ {sub.command}\n{sub.script}".replace(str(Path(tmp).resolve()), "/home/me/run")


def _shown(value) -> str:
    if isinstance(value, dict):
        value = [f"{k}={v}" for k, v in value.items()]
    if isinstance(value, list):
        return " ".join(f"`{v}`" for v in value)
    return f"`{value}`"


FIELDS = [("scheduler", "scheduler"), ("launcher", "launcher"), ("mpi", "MPI"),
          ("cores_per_node", "cores/node"), ("gpus_per_node", "GPUs/node"),
          ("ranks_per_node", "ranks/node"), ("cpus_per_rank", "CPUs/rank"),
          ("gpu_bind", "GPU binding"), ("time", "time")]


def machines_page() -> str:
    profiles = _profiles()
    out = [HEADER, "# Machine profiles\n\n",
           "The profiles shipped in `configs/machines/` (`hpcarray submit --machine NAME`); "
           "a profile fills the defaults of a job, options on the command line override "
           "them. Your own profiles go in `~/.config/hpcarray/machines/` or "
           "`$HPCARRAY_MACHINES_DIR`. Empty cells are not fixed by the profile "
           "(not checked).\n\n",
           "| profile | " + " | ".join(h for _, h in FIELDS) + " |\n",
           "| --- | " + " | ".join("---" for _ in FIELDS) + " |\n"]
    for p in profiles:
        cells = ["" if p.get(k) is None else f"{p[k]}" for k, _ in FIELDS]
        out.append(f"| [`{p['name']}`](#{p['name']}) | " + " | ".join(cells) + " |\n")
    for p in profiles:
        nodes = 1 if p.get("scheduler") == "none" else 2
        extras = [f"`{k}`: {_shown(p[k])}" for k in ("directives", "launcher_args", "env",
                                                     "qos", "srun_mpi", "lsf_style") if p.get(k)]
        cmd = f"hpcarray submit --machine {p['name']} --nodes {nodes}" + (
            "" if nodes == 1 else " -A myproject") + " --dry-run stencil.py --size 4096"
        out.append(f"\n## {p['name']}\n\n{p.get('description', '')} "
                   f"(`configs/machines/{p['file']}`)\n\n")
        if extras:
            out.append("Also sets " + "; ".join(extras) + ".\n\n")
        out.append(f"`{cmd}` prints:\n\n```bash\n{_dry_run(p['name'], nodes)}```\n")
    return "".join(out)


PAGES = {"api.md": api_page, "machines.md": machines_page}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check the pages are current")
    args = ap.parse_args(argv)
    stale = []
    for name, make in PAGES.items():
        path, text = DOCS / name, make()
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale: {', '.join('docs/' + s for s in stale)}; "
              "run `python docs/generate.py` and commit the result", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
