"""Floating-point errors (divide by zero, overflow, underflow, invalid value) as NumPy
reports them: under the caller's errstate at the time an operation is issued, once per
operation and condition, at the caller's line.

- On the caller's thread (the small-array fast path), NumPy's own checks run under a
  *redirected* errstate: 'warn' becomes 'log' to an object that warns at the caller's
  line (warnings.warn_explicit), so the warning names the user's line, not hpcarray's.
- An operation issued for later (`capture`) records the caller's errstate and line. Its
  tasks run on worker threads whose errstate logs every condition to a collector
  (`begin`/`end` around a task gather them); compiled kernels test the IEEE sticky
  flags around each call (backend/cpu/ieee_flags.py: fenv is per thread, and NumPy clears the flags
  before each of its loops). The scheduler then reports each condition once per
  operation on the caller's thread (`report`), or fails the operation for 'raise' (and
  for warnings the warnings filters turn into errors), raised at the next sync point.
"""

from __future__ import annotations

import itertools
import sys
import threading
import warnings

import numpy as np

from hpcarray.runtime.trace import user_frame

DIVIDE, OVER, UNDER, INVALID = 1, 2, 4, 8  # NumPy's NPY_FPE_* bits
ALL = DIVIDE | OVER | UNDER | INVALID
# In NumPy's order of handling: (bit, errstate key, the message's words).
KINDS = ((DIVIDE, "divide", "divide by zero"), (OVER, "over", "overflow"),
         (UNDER, "under", "underflow"), (INVALID, "invalid", "invalid value"))
_BIT = {text: bit for bit, _, text in KINDS}
_INDEX = {bit: k for k, (bit, _, _) in enumerate(KINDS)}
_KEYS = tuple(key for _, key, _ in KINDS)


def message(bit: int, name: str) -> str:
    return f"{KINDS[_INDEX[bit]][2]} encountered in {name}"


def _parse(log_line: str) -> tuple[int, str]:
    """(bit, ufunc name) of NumPy's 'log' line "Warning: <what> encountered in <name>\\n"."""
    text, name = log_line[len("Warning: "):].rstrip("\n").split(" encountered in ", 1)
    return _BIT[text], name


# -- the caller's errstate ------------------------------------------------------------

try:  # NumPy 2: the errstate is a context variable holding a capsule
    from numpy._core._ufunc_config import _extobj_contextvar as _VAR
    from numpy._core.umath import _get_extobj_dict, _make_extobj
except ImportError:  # pragma: no cover - other NumPy versions: no redirection
    _VAR = None

_states: dict = {}  # errstate capsule -> (modes in KINDS order, call)


def _state() -> tuple[tuple[str, ...], object]:
    if _VAR is None:  # pragma: no cover
        d = np.geterr()
        return tuple(d[k] for k in _KEYS), np.geterrcall()
    capsule = _VAR.get()
    state = _states.get(capsule)
    if state is None:
        if len(_states) > 256:
            _forget()
        d = _get_extobj_dict()
        state = _states[capsule] = (tuple(d[k] for k in _KEYS), d["call"])
    return state


_issued = itertools.count()


class Issue:
    """What the caller asked for when an operation was issued: the errstate's modes and
    callable, its line, and which warnings the warnings filters then made errors."""

    __slots__ = ("modes", "call", "code", "lasti", "globals", "errors", "seq", "_line")

    def __init__(self, modes, call, frame, errors: int):
        self.seq = next(_issued)  # reports come in the order operations were issued
        self.modes = modes
        self.call = call
        # The line is found from the code and offset only when reported: frame.f_lineno
        # scans the code's line table (0.7 us an operation).
        self.code, self.lasti = (frame.f_code, frame.f_lasti) if frame is not None else (
            None, -1)
        self.globals = frame.f_globals if frame is not None else {}
        self.errors = errors
        self._line = None

    @property
    def filename(self) -> str:
        return self.code.co_filename if self.code is not None else "?"

    @property
    def lineno(self) -> int:
        if self._line is None:
            self._line = next((line for start, end, line in self.code.co_lines()
                               if start <= self.lasti < end), None) or 0 \
                if self.code is not None else 0
        return self._line

    @property
    def src(self) -> str:
        """'file.py:LINE', as trace.user_source_line names it."""
        return f"{self.filename.rsplit('/', 1)[-1]}:{self.lineno}"

    def mode(self, bit: int) -> str:
        return self.modes[_INDEX[bit]]

    @property
    def module(self) -> str:
        return self.globals.get("__name__", "<string>")


def capture(name: str) -> Issue | None:
    """The caller's errstate and line for operation `name` issued now (None when every
    condition is ignored: nothing to check)."""
    modes, call = _state()
    if modes == ("ignore",) * 4:
        return None
    frame = user_frame()
    errors = 0
    if "warn" in modes and frame is not None and _error_filters():
        errors = _warnings_made_errors(modes, name, frame)
    return Issue(modes, call, frame, errors)


# (the filters list, its length, its first entry; whether one says 'error'). The list and
# entry are kept, not their ids: a dropped list's id is reused by the next one made (a
# catch_warnings after another), which then passed for it.
_last_filters: list = [None, 0, None, False]


def _error_filters() -> bool:
    """Whether any warnings filter now turns warnings into errors (mostly none: then no
    line needs checking). The list is known by identity, length and first entry:
    catch_warnings swaps the list, simplefilter and filterwarnings insert at the front.
    A new list or entry also forgets the lines _warnings_made_errors looked up."""
    filters = warnings.filters
    first = filters[0] if filters else None
    last = _last_filters
    if last[0] is not filters or last[1] != len(filters) or last[2] is not first:
        last[:] = filters, len(filters), first, any(f[0] == "error" for f in filters)
        _filter_cache.clear()
    return last[3]


def first(issues) -> Issue | None:
    """A fused operation's `fp` (scheduler.Operation): its first member's that checks
    (each member's own is reported as its own)."""
    return next((i for i in issues if i is not None), None)


_filter_cache: dict = {}


def _warnings_made_errors(modes, name: str, frame) -> int:
    """Conditions set to 'warn' whose warning the warnings filters turn into an error at
    this line now (-W error): those fail the operation as 'raise' does. Called right after
    _error_filters, which clears the cache when the filters change."""
    filters = warnings.filters
    module = frame.f_globals.get("__name__", "<string>")
    key = (modes, name, module, frame.f_lineno)  # (for the filters _error_filters saw)
    found = _filter_cache.get(key)
    if found is None:
        found = 0
        for bit, _, _ in KINDS:
            if modes[_INDEX[bit]] == "warn" and _action(
                    filters, message(bit, name), module, frame.f_lineno) == "error":
                found |= bit
        if len(_filter_cache) > 1024:
            _filter_cache.clear()
        _filter_cache[key] = found
    return found


def _action(filters, text: str, module: str, lineno: int) -> str:
    """The warnings filters' action for a RuntimeWarning (the warnings module's rule)."""
    for action, msg, category, mod, ln in filters:
        if ((msg is None or msg.match(text)) and issubclass(RuntimeWarning, category)
                and (mod is None or mod.match(module)) and (ln == 0 or lineno == ln)):
            return action
    return warnings.defaultaction


# -- reporting on the caller's thread -------------------------------------------------

def _warn(text: str, filename: str, lineno: int, f_globals: dict) -> None:
    """warnings.warn at a given line, as a warning raised there would be (its module's
    registry: the 'default' and 'module' filters show it once per place)."""
    registry = f_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(text, RuntimeWarning, filename, lineno,
                           f_globals.get("__name__", "<string>"), registry, f_globals)


def handle(issue: Issue, flags: int, name: str) -> None:
    """NumPy's handling of conditions `flags` of operation `name` under `issue`'s
    errstate, on the caller's thread ('raise' is left to the scheduler: see module doc)."""
    for bit, _, words in KINDS:
        if not flags & bit:
            continue
        mode = issue.mode(bit)
        text = f"{words} encountered in {name}"
        if mode == "warn":
            _warn(text, issue.filename, issue.lineno, issue.globals)
        elif mode == "print":
            sys.stderr.write(f"Warning: {text}\n")
        elif mode == "call":
            if issue.call is None:
                raise NameError(f"python callback specified for {words} (in  {name}) but "
                                "no function found.")
            issue.call(words, flags)
        elif mode == "log":
            if issue.call is None:
                raise NameError(f"log specified for {words} (in {name}) but no object with "
                                "write method found.")
            issue.call.write(f"Warning: {text}\n")


def failure(issue: Issue, bit: int, name: str) -> BaseException | None:
    """The error that condition `bit` of operation `name` raises under `issue` ('raise',
    or a warning the filters make an error), or None."""
    mode = issue.mode(bit)
    if mode == "raise":
        return FloatingPointError(message(bit, name))
    if mode == "warn" and issue.errors & bit:
        return RuntimeWarning(message(bit, name))
    return None


def report(pending: list[tuple[Issue, int, str]]) -> None:
    """Handle conditions found by tasks: one call per (issue, name) with their flags
    together, as NumPy handles one ufunc call's."""
    merged: dict[tuple[int, str], list] = {}
    for issue, bit, name in sorted(pending, key=lambda p: p[0].seq):
        entry = merged.setdefault((id(issue), name), [issue, 0])
        entry[1] |= bit
    for (_, name), (issue, flags) in merged.items():
        handle(issue, flags, name)


# -- the fast path: NumPy on the caller's thread ----------------------------------------

class _Redirect:
    """The errstate callable of a redirected errstate: 'log' lines of conditions the
    caller set to 'warn' become warnings at the caller's line; the caller's own 'log'
    and 'call' handlers get theirs."""

    def __init__(self, modes, call):
        self.modes, self.call = modes, call

    def write(self, line: str) -> None:
        bit, _ = _parse(line)
        if self.modes[_INDEX[bit]] == "log":
            self.call.write(line)
            return
        frame = user_frame()
        if frame is None:
            warnings.warn(line[len("Warning: "):].rstrip("\n"), RuntimeWarning, stacklevel=2)
        else:
            _warn(line[len("Warning: "):].rstrip("\n"), frame.f_code.co_filename,
                  frame.f_lineno, frame.f_globals)

    def __call__(self, errtype: str, flags: int):
        return self.call(errtype, flags)


_redirects: dict = {}  # caller's capsule -> redirected capsule


def _forget() -> None:
    """Drop the errstates seen so far, both maps at once: a redirected capsule whose
    state (its caller's) was forgotten alone read as 'log', and warnings of operations
    issued under it came at the next wait's line instead of the operation's."""
    _states.clear()
    _redirects.clear()


def redirected():
    """The errstate capsule to run NumPy under on the caller's behalf (see _Redirect)."""
    capsule = _VAR.get()
    r = _redirects.get(capsule)
    if r is None:
        modes, call = state = _state()
        r = capsule
        if "warn" in modes:
            if len(_redirects) > 256:
                _forget()
            r = _make_extobj(**{k: "log" if m == "warn" else m for k, m in zip(_KEYS, modes)},
                             call=_Redirect(modes, call))
            _states[r] = state  # operations issued under it capture the caller's state
        _redirects[capsule] = r
    return r


if _VAR is not None:
    _var_get, _var_set = _VAR.get, _VAR.set

    def enter_caller():
        """Redirect this thread's errstate (see _Redirect); returns the token for
        leave_caller. (Inlined on the fast path: 0.2 us.)"""
        r = _redirects.get(_var_get())
        return _var_set(r if r is not None else redirected())

    leave_caller = _VAR.reset
else:  # pragma: no cover
    def enter_caller():
        return None

    def leave_caller(token) -> None:
        pass


class at_caller:
    """`with at_caller():` NumPy calls made on the caller's behalf report as NumPy's own
    call at the caller's line would."""

    __slots__ = ("token",)

    def __enter__(self):
        self.token = enter_caller()

    def __exit__(self, *exc):
        leave_caller(self.token)


# -- worker threads -------------------------------------------------------------------

_tls = threading.local()


class _Collector:
    """Worker threads' errstate target ('log' for every condition): notes what NumPy
    found for the issue of the step now running."""

    def write(self, line: str) -> None:
        hits = getattr(_tls, "hits", None)
        if hits is not None:
            bit, name = _parse(line)
            hits.append((_tls.issue, bit, name))


_COLLECTOR = _Collector()


def collect_on_this_thread() -> None:
    """A worker thread's errstate for its whole life: every condition to the collector."""
    np.seterr(all="log")
    np.seterrcall(_COLLECTOR)


def collecting():
    """The worker errstate as a context (tasks run on the caller's thread: eager mode)."""
    return np.errstate(all="log", call=_COLLECTOR)


def begin(issue: Issue | None) -> None:
    """A task of an operation issued under `issue` starts on this thread."""
    _tls.hits = []
    _tls.issue = issue


def step(issue: Issue | None) -> None:
    """The next NumPy calls on this thread belong to `issue` (a fused member's)."""
    _tls.issue = issue


def hits() -> list | None:
    """Where conditions of the task running on this thread go (None: none is)."""
    return getattr(_tls, "hits", None)


def end() -> list[tuple[Issue, int, str]]:
    """The conditions found since `begin`: (issue, bit, operation name)."""
    hits = _tls.hits
    _tls.hits = None
    return hits
