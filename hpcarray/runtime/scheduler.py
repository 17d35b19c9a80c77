"""The deferred window: dependence analysis, a ready queue and a pool of worker threads.

`submit` records a point task with its region requirements. Dependences come from
rectangle overlap on the task's stores (deps.py); a task whose dependences are done goes
to the ready queue and any worker runs it, so independent tasks run out of order and in
parallel while Python keeps issuing. Sync points wait only for the stores they need.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable

from hpcarray.runtime import fpe
from hpcarray.runtime.deps import find_dependences
from hpcarray.runtime.partition import Rect
from hpcarray.runtime.store import Store

Requirement = tuple[Store, Rect, bool]  # (store, store rectangle, writes?)


def raise_task_error(exc: BaseException, op: Operation, rank: int | None = None):
    where = f" issued at {op.src}" if op.src else ""
    on = f" on rank {rank}" if rank is not None else ""
    if hasattr(exc, "add_note"):
        exc.add_note(f"(raised{on} by hpcarray's deferred operation '{op.name}'{where})")
    raise exc


_CAPTURE = object()


class Operation:
    """One API-level operation; its point tasks share it.

    `fp`: the caller's errstate and line when it was issued (fpe.Issue; None: no
    floating-point condition is reported), captured here unless given. A fused
    operation's members each have theirs (fusion.py sets `fp` to the first)."""

    __slots__ = ("id", "name", "src", "fp", "fp_seen")

    def __init__(self, op_id: int, name: str, src: str, fp=_CAPTURE):
        self.id = op_id
        self.name = name
        if fp is _CAPTURE:
            fp = fpe.capture(name)
        self.fp = fp
        self.src = src or (fp.src if fp is not None else "")
        self.fp_seen: set | None = None  # (issue, condition) already handled


class Task:
    __slots__ = ("id", "op", "kernel", "tile", "npending", "dependents", "done", "keys",
                 "nbytes", "comm", "comm_error", "posted", "store_id")

    def __init__(self, task_id: int, op: Operation, kernel: Callable[[], None], tile: Rect,
                 nbytes: int = 0):
        self.id = task_id
        self.op = op
        self.kernel = kernel
        self.tile = tile
        self.nbytes = nbytes
        self.npending = 0
        self.dependents: list[Task] = []
        self.done = False
        self.keys: list = []
        # Copy tasks: ("send" | "recv", peer rank, tag, payload), run by the progress thread.
        self.comm: tuple | None = None
        self.comm_error: BaseException | None = None
        self.posted = 0
        self.store_id = -1


class Scheduler:
    def __init__(self, workers: int, window: int, recorder=None, nvtx=None, eager=False,
                 window_bytes: int = 1 << 28, thread_init: Callable[[], None] | None = None):
        self.nworkers = workers
        self.window = window
        # Bytes written by pending tasks: bounds the temporaries alive at once, so a
        # program's peak memory stays close to NumPy's.
        self.window_bytes = window_bytes
        self.pending_bytes = 0
        self.recorder = recorder
        self.nvtx = nvtx
        self.eager = eager
        self.thread_init = thread_init  # first thing on each worker (Backend.bind_thread)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.pending = 0
        # What the stall watch reads (runtime/stall.py): tasks completed, which workers
        # run one, whether the main thread waits for tasks.
        self.completed = 0
        self.busy = [False] * workers
        self.main_waiting = False
        self.error: tuple[BaseException, Operation] | None = None
        # Floating-point conditions tasks found, to report on the caller's thread.
        self.fp_pending: list[tuple] = []
        self.progress = None  # comm.Progress in multi-rank jobs
        # Multi-rank jobs raise task errors only where all ranks agree (runtime.gather),
        # never at a point only one rank reaches: ranks must stay in lock-step.
        self.agreed_errors = False
        self._failed_ops: set[int] = set()
        self._keys = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, args=(lane,), name=f"hpcarray-worker-{lane}",
                             daemon=True)
            for lane in range(0 if eager else workers)
        ]
        for t in self._threads:
            t.start()

    # -- issuing --------------------------------------------------------------------

    def submit(self, task: Task, reqs: Iterable[Requirement], after: Iterable[Task] = ()) -> None:
        with self.lock:
            preds = find_dependences(task, reqs, self._keys, self.recorder)
            for t in after:
                if not t.done and t not in preds:
                    preds[t] = "copy"
                    if self.recorder is not None:
                        self.recorder.edge(t.id, task.id, "copy")
            for t in preds:
                t.dependents.append(task)
            task.npending = len(preds)
            self.pending += 1
            self.pending_bytes += task.nbytes
            ready = task.npending == 0
        if ready:
            self._dispatch(task)
        if self.eager:
            self.drain()
        elif self.pending > self.window or (self.pending_bytes > self.window_bytes
                                            and self.pending > self.nworkers):
            self._throttle()

    # -- running ----------------------------------------------------------------------

    def _work(self, lane: int) -> None:
        fpe.collect_on_this_thread()
        if self.thread_init is not None:
            self.thread_init()
        busy = self.busy
        while True:
            task = self.queue.get()
            if task is None:
                return
            busy[lane] = True
            self._run(task, lane)
            busy[lane] = False

    def _run(self, task: Task, lane: int) -> None:
        if self.error is None:
            rec, nvtx, fp = self.recorder, self.nvtx, task.op.fp
            mark = None
            try:
                if rec is not None:
                    start = rec.now()
                    rec.local.task = (task.id, task.op.id, lane)  # compiles it waits for
                if nvtx is not None:
                    nvtx.push(task.op.name, "task")
                if fp is not None:
                    fpe.begin(fp)
                if rec is not None:
                    mark = rec.gpu_begin()  # an event on the GPU's stream (None: no GPU)
                try:
                    if lane == self.nworkers:  # eager: on the caller's thread
                        with fpe.collecting():
                            task.kernel()
                    else:
                        task.kernel()
                finally:
                    if mark is not None:
                        rec.gpu_end(task.id, task.op.id, mark)
                    if nvtx is not None:
                        nvtx.pop()
                    if fp is not None:
                        hits = fpe.end()
                        if hits:
                            self._note_fp(task.op, hits)
                if rec is not None:
                    rec.task(task.id, task.op.id, lane, task.tile, start, rec.now(), task.nbytes)
            except BaseException as exc:  # noqa: BLE001 - re-raised at the next sync point
                self._fail(exc, task.op)
        self._complete(task)

    def _note_fp(self, op: Operation, hits: list) -> None:
        """Conditions a task of `op` found: each (issue, condition) once per operation;
        an error for 'raise' (raised at the next sync point, naming the issuing line),
        the rest reported on the caller's thread (report_fp)."""
        error = None
        with self.lock:
            if op.fp_seen is None:
                op.fp_seen = set()
            for issue, bit, name in hits:
                if issue is None or (id(issue), bit, name) in op.fp_seen:
                    continue
                op.fp_seen.add((id(issue), bit, name))
                mode = issue.mode(bit)
                if mode == "ignore":
                    continue
                exc = fpe.failure(issue, bit, name)
                if exc is None:
                    self.fp_pending.append((issue, bit, name))
                elif error is None:
                    error = (exc, Operation(op.id, name, issue.src, None))
        if error is not None:
            self._fail(*error)

    def report_fp(self) -> None:
        """Report the conditions tasks found (warnings at the issuing lines), on the
        caller's thread."""
        if self.fp_pending:
            with self.lock:
                pending, self.fp_pending = self.fp_pending, []
            fpe.report(pending)

    def _complete(self, task: Task) -> None:
        task.kernel = None  # drop references to buffers as soon as possible
        ready = []
        with self.lock:
            task.done = True
            for accesses, key in task.keys:
                del accesses[key]
            task.keys = []
            for t in task.dependents:
                t.npending -= 1
                if t.npending == 0:
                    ready.append(t)
            task.dependents = []
            self.pending -= 1
            self.completed += 1
            self.pending_bytes -= task.nbytes
            self.changed.notify_all()
        for t in ready:
            self._dispatch(t)

    def _dispatch(self, task: Task) -> None:
        if task.comm is None:
            self.queue.put(task)
        else:
            if self.recorder is not None:
                task.posted = self.recorder.now()
            self.progress.post(task)

    def complete_copy(self, task: Task) -> None:
        """Called by the progress thread when a copy task's message has gone or arrived."""
        rec = self.recorder
        if task.comm_error is not None:
            self._fail(task.comm_error, task.op)
        elif rec is not None:
            kind, peer, tag, _ = task.comm
            me = rec.rank
            side = "recv" if kind == "recv" else "send"
            src, dst = (me, peer) if side == "send" else (peer, me)
            rec.copy(task.id, task.op.id, "halo" if task.tile else "reduction", side, src, dst,
                     tag, task.store_id, task.tile, task.nbytes, task.posted, rec.now())
        self._complete(task)

    # -- sync points ------------------------------------------------------------------

    def _throttle(self) -> None:
        # Bytes bound only beyond one task per worker: an operation whose tiles each write
        # more than the window must still run its tiles side by side.
        with self.lock:
            while (self.pending > self.window // 2
                   or (self.pending_bytes > self.window_bytes // 2
                       and self.pending > self.nworkers)) and self.error is None:
                self._wait_main()

    def wait_store(self, store: Store) -> None:
        """Wait until no pending task reads or writes `store` (or its aliases); raise a
        task error here (multi-rank jobs: leave it for `take_error` at a gather)."""
        accesses = store.accesses
        if accesses or self.error is not None:
            with self.lock:
                while accesses and (self.error is None or self.agreed_errors):
                    self._wait_main()
                if self.error is not None and not self.agreed_errors:
                    self._wait_idle_locked()
                    self._raise_error()
        self.report_fp()

    def take_error(self):
        """The pending task error, if any, now cleared: (exception, operation) or None."""
        self.report_fp()
        with self.lock:
            error, self.error = self.error, None
        return error

    def drain(self) -> None:
        """Wait for every pending task."""
        with self.lock:
            self._wait_idle_locked()
            if self.error is not None:
                self._raise_error()
        self.report_fp()

    def drain_quietly(self) -> None:
        """Wait for every pending task, leaving any error for `take_error`."""
        with self.lock:
            self._wait_idle_locked()
        self.report_fp()

    def _wait_idle_locked(self) -> None:
        while self.pending:
            if self.eager:
                # Eager mode: run ready tasks on this thread.
                self.lock.release()
                try:
                    try:
                        task = self.queue.get_nowait()
                    except queue.Empty:
                        time.sleep(0)
                        continue
                    self._run(task, self.nworkers)
                finally:
                    self.lock.acquire()
            else:
                self._wait_main()

    def _wait_main(self) -> None:
        """The main thread waits for tasks to change (holding the lock's condition)."""
        self.main_waiting = True
        try:
            self.changed.wait()
        finally:
            self.main_waiting = False

    def raise_error(self) -> None:
        """Raise the pending task error, if any (one rank; multi-rank jobs raise errors
        where all ranks agree)."""
        self.report_fp()
        if self.error is not None and not self.agreed_errors:
            with self.lock:
                if self.error is not None:
                    self._raise_error()

    def _fail(self, exc: BaseException, op: Operation) -> None:
        with self.lock:
            # One error per operation: its other tiles failing too say nothing new.
            if op.id in self._failed_ops:
                return
            self._failed_ops.add(op.id)
            if self.error is None:
                self.error = (exc, op)

    def _raise_error(self) -> None:
        """(Called holding the lock.) Warnings found before the error come first."""
        exc, op = self.error
        self.error = None
        if self.fp_pending:
            pending, self.fp_pending = self.fp_pending, []
            self.lock.release()
            try:
                fpe.report(pending)
            finally:
                self.lock.acquire()
        raise_task_error(exc, op)

    def shutdown(self) -> None:
        for _ in self._threads:
            self.queue.put(None)
        if self.progress is not None:
            self.progress.stop()
