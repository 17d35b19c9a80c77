"""Tasks' GPU times for the trace, from CUDA events on the backend's stream.

While a run is recorded, each task's launches are bracketed by two events recorded on the
rank's stream. Their times are read back only when the trace is written (and, to bound
the events held, for spans whose end event the GPU has passed: a query, not a wait), so
the host waits for none of them while the program runs. A span runs from when the GPU
reached the task's first event to when it reached its last: it also counts time the GPU
waited for the task's launches (a kernel's first compile; a host slower than the GPU).

While timing, a rank's tasks launch one at a time: on the one stream the launches of two
tasks would otherwise interleave, and each span would take in the other's kernels.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from types import ModuleType

# Spans held as events at most before those the GPU has finished are read back.
HELD = 4096


class GpuTimer:
    """Spans of tasks on one GPU stream: `begin()` before a task's body, `end()` after it
    (always: it lets the next task begin), `spans()` when the trace is written."""

    def __init__(self, cuda: ModuleType, stream, device: int, now: Callable[[], int]):
        self._cuda = cuda
        self.stream = stream
        self.device = device
        self._lock = threading.Lock()  # held from a task's begin() to its end()
        self._held: deque = deque()  # (task id, op id, start event, end event)
        self._read: list[tuple[int, int, int, int]] = []  # (task, op, start ns, end ns)
        # The clock's origin: an event the GPU reaches at once, at the recorder's now().
        stream.synchronize()
        self._origin = cuda.Event()
        self._origin.record(stream)
        self._origin.synchronize()
        self._origin_ns = now()

    def begin(self):
        self._lock.acquire()
        try:
            event = self._cuda.Event()
            event.record(self.stream)
        except BaseException:
            self._lock.release()
            raise
        return event

    def end(self, task_id: int, op_id: int, start) -> None:
        try:
            event = self._cuda.Event()
            event.record(self.stream)
            self._held.append((task_id, op_id, start, event))
            if len(self._held) > HELD:
                self._read_back(wait=False)
        finally:
            self._lock.release()

    def spans(self) -> list[tuple[int, int, int, int]]:
        """(task id, op id, start, end) of every span, in the recorder's ns; the host waits
        here, once, for the stream."""
        with self._lock:
            self.stream.synchronize()
            self._read_back(wait=True)
            return list(self._read)

    def _read_back(self, wait: bool) -> None:
        held, elapsed = self._held, self._cuda.get_elapsed_time
        while held and (wait or held[0][3].done):
            task_id, op_id, start, end = held.popleft()
            # From the origin for where it starts, from its start for how long it took:
            # elapsed times are float32 ms, precise to ~0.5 us only over short intervals.
            t = self._origin_ns + round(elapsed(self._origin, start) * 1e6)
            self._read.append((task_id, op_id, t, t + round(elapsed(start, end) * 1e6)))
