"""Debug check (HPCARRAY_CHECK_SPMD=1): all ranks must issue the same operations in the
same order. User code that branches on the rank breaks the model; this names the first
call where the ranks diverged instead of letting the job hang."""

from __future__ import annotations

import zlib


class DivergenceError(RuntimeError):
    """Ranks issued different operation sequences."""


class SpmdChecker:
    CHECK_EVERY = 256

    def __init__(self, comm):
        self.comm = comm
        self.history: list[tuple[str, str]] = []
        self.checked = 0
        self.digest = 0

    def record(self, name: str, src: str) -> None:
        self.history.append((name, src))
        self.digest = zlib.crc32(f"{name}|{src}".encode(), self.digest)
        if len(self.history) - self.checked >= self.CHECK_EVERY:
            self.check()

    def check(self) -> None:
        digests = self.comm.allgather_obj((len(self.history), self.digest))
        if len(set(digests)) == 1:
            self.checked = len(self.history)
            return
        histories = self.comm.allgather_obj(self.history[self.checked:])
        first = self.checked + _first_difference(histories)
        lines = []
        for rank, h in enumerate(histories):
            i = first - self.checked
            call = f"{h[i][0]} at {h[i][1]}" if i < len(h) else "nothing (fewer calls)"
            lines.append(f"  rank {rank}: {call}")
        raise DivergenceError(
            f"ranks issued different operations (call #{first + 1} since start):\n"
            + "\n".join(lines)
            + "\nEvery rank must run the same hpcarray calls; do not branch on the rank."
        )


def _first_difference(histories) -> int:
    n = min(len(h) for h in histories)
    for i in range(n):
        if len({h[i] for h in histories}) > 1:
            return i
    return n
