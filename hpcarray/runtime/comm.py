"""Communication between ranks. `LocalComm` is the one-process stand-in used without MPI;
the MPI implementation (issue 3) provides the same interface."""

from __future__ import annotations


class LocalComm:
    rank = 0
    size = 1

    def barrier(self) -> None:
        pass

    def allreduce_max(self, value):
        return value

    def bcast(self, value, root: int = 0):
        return value


def make_comm() -> LocalComm:
    return LocalComm()
