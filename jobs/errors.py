"""The one exception type for bad job input: the CLI turns it into a one-line error."""

from __future__ import annotations


class JobError(Exception):
    """A user-facing error (bad option, unknown machine, failed submission).

    The command line prints ``str(err)`` on one line and exits with status 2.
    """

    def __str__(self) -> str:  # keep it on one line whatever the cause carried
        return " ".join(super().__str__().split())
