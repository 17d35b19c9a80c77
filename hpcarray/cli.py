"""The `hpcarray` command: run, submit, jobs, profile, bench.

Each concern registers its own subcommand; this module assembles them and owns what every
command line shares: errors are one line with exit status 2, options are never matched by
prefix, and everything after the script belongs to the script, exactly as `python script.py
ARGS` would pass it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from hpcarray import __version__


def _register_optional(sub: argparse._SubParsersAction, module: str) -> None:
    """Register the subcommands of an optional part (jobs, profiling, benchmarks)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    register = getattr(mod, "register", None)
    if register is not None:
        register(sub)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _strict(parser: argparse.ArgumentParser) -> None:
    """No prefix matching; errors as one line (no usage dump), exit status 2."""

    def error(message: str) -> NoReturn:
        parser.exit(2, f"{parser.prog}: error: {' '.join(message.split())}\n")

    known = parser.parse_known_args

    def parse_known_args(args: Any = None, namespace: Any = None) -> Any:
        # as a subcommand, leftovers would reach the top-level parser, named after it
        ns, extras = known(args, namespace)
        if extras:
            error(f"unrecognized arguments: {' '.join(extras)}")
        return ns, extras

    parser.allow_abbrev = False
    parser.error = error  # type: ignore[method-assign]
    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]
    for child in _subcommands(parser).values():
        _strict(child)


def build_parser() -> argparse.ArgumentParser:
    from hpcarray import launch

    parser = argparse.ArgumentParser(
        prog="hpcarray",
        description="Run NumPy programs on tiles, tasks, threads, ranks and clusters.",
    )
    parser.add_argument("--version", action="version", version=f"hpcarray {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    launch.register(sub)
    sub.choices["run"].set_defaults(func=_run)
    for module in ("hpcarray.jobs.cli", "hpcarray.profiling.cli", "hpcarray.bench_cli"):
        _register_optional(sub, module)
    _strict(parser)
    return parser


def _is_script(token: str) -> bool:
    return token.endswith(".py") or os.path.isfile(token) or os.path.isdir(token) and (
        os.path.isfile(os.path.join(token, "__main__.py")))


def _values_taken(parser: argparse.ArgumentParser, tokens: list[str], i: int) -> int:
    """How many of the tokens after the option tokens[i] are its values."""
    token = tokens[i]
    name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
    action = parser._option_string_actions.get(name)
    if action is None or action.nargs == 0 or name != token:  # unknown, a flag, or --x=v/-n3
        return 0
    if action.nargs is None:
        return 1
    if action.nargs == "?":
        nxt = tokens[i + 1] if i + 1 < len(tokens) else "-"
        if nxt.startswith("-") or _is_script(nxt):
            # `--profile script.py`: the script, not a directory named like it
            tokens[i] = f"{token}={action.const}"
            return 0
        return 1
    return int(action.nargs)


def split_script_args(parser: argparse.ArgumentParser,
                      argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """argv = hpcarray's own part (up to the script, which it includes) + the script's
    arguments, or None where the command takes no script. What follows the script is the
    script's alone: `hpcarray run x.py --n 5 -- y` passes ['--n', '5', '--', 'y']."""
    argv = list(argv)
    command = _subcommands(parser).get(argv[0]) if argv else None
    if command is None:
        return argv, None
    if command.get_default("passthrough"):  # `hpcarray bench ARGS`: all of them
        return argv[:1], argv[1:]
    if not any(a.dest == "script" for a in command._actions):
        return argv, None
    i = 1
    while i < len(argv):
        token = argv[i]
        if token == "--":  # the script comes next, whatever it looks like
            return argv[:i + 2], argv[i + 2:]
        if not token.startswith("-") or token == "-":
            return argv[:i + 1], argv[i + 1:]
        i += 1 + _values_taken(command, argv, i)
    return argv, []


def script_problem(path: str) -> str | None:
    """Why `python path` would not run, in Python's words, or None. A directory (or zip)
    runs its __main__.py, as Python does."""
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "__main__.py")):
            return None
        return f"can't find '__main__' module in {path!r}"
    if not os.path.isfile(path):
        return f"can't open file {path!r}: no such file"
    return None


# Settings the run command's options carry (launch.settings_env), named as the user wrote.
_OPTION_OF = {"HPCARRAY_WORKERS": "--workers", "HPCARRAY_WINDOW": "--window",
              "HPCARRAY_PROFILE": "--profile"}


def settings_problem(env: dict[str, str]) -> str | None:
    """The first bad setting among HPCARRAY_* of os.environ overridden by `env` (what the
    script will see), in one line, or None. A profile directory is made here."""
    from hpcarray.runtime.config import SettingError, Settings

    try:
        Settings.from_env({**os.environ, **env})
    except SettingError as err:
        option = _OPTION_OF.get(err.name)
        if option and err.name in env and os.environ.get(err.name) != err.value:
            return f"{option} {err.value}: {err.reason}"
        return str(err)
    return None


def _run(args: argparse.Namespace) -> int:
    """`hpcarray run`: what would fail late (the script, a setting, an unwritable profile
    directory that would lose the trace at exit) fails first, in one line."""
    from hpcarray import launch

    problem = script_problem(args.script) or settings_problem(launch.settings_env(args))
    if problem:
        print(f"hpcarray run: error: {problem}", file=sys.stderr)
        return 2
    return launch.run_command(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    own, script_args = split_script_args(parser, sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(own)
    if script_args is not None:
        args.args = script_args
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
