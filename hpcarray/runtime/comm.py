"""Communication between ranks.

`LocalComm` is the one-process stand-in used without MPI. `MPIComm` wraps mpi4py with two
duplicated communicators: point-to-point traffic (halos, partials) runs on the progress
thread, collectives (gathers at sync points) on the main thread, in program order on every
rank. The progress thread polls with a short sleep instead of spinning inside MPI; the
collectives block inside MPI, where MPIR_CVAR_ENABLE_HEAVY_YIELD (set by `hpcarray run`)
keeps waiting ranks from stealing the cores of busy ones on an oversubscribed node.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import sys
import threading

from hpcarray.runtime.trace import user_source_line

# Environment variables that MPI launchers set in every rank they start.
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                  "MPI_LOCALNRANKS", "HYDI_CONTROL_FD", "PMI_FD")


class LocalComm:
    """One rank, no MPI."""

    rank = 0
    size = 1
    local_size = 1  # ranks on this node
    is_mpi = False

    def allgather_obj(self, obj) -> list:
        return [obj]

    def alltoall_obj(self, objs: list) -> list:
        return list(objs)

    def barrier(self) -> None:
        pass

    def abort(self, code: int = 1) -> None:
        os._exit(code)


class MPIComm:
    is_mpi = True

    def __init__(self, MPI):
        self.MPI = MPI
        world = MPI.COMM_WORLD
        self.rank = world.Get_rank()
        self.size = world.Get_size()
        self.p2p = world.Dup()
        self.coll = world.Dup()
        self.fault = world.Dup()  # how each rank ended (failure.py): never mixes with these
        self.in_collective = False  # the main thread waits for every rank (failure.py)
        self.collectives = 0  # allgathers so far (the same count on every rank)
        node = world.Split_type(MPI.COMM_TYPE_SHARED)
        self.local_size = node.Get_size()  # ranks on this node (they share its cores)
        node.Free()

    # -- collectives on the main thread ------------------------------------------------

    def allgather_obj(self, obj) -> list:
        # Blocking: MPICH's nonblocking collectives polled from Python (with the progress
        # thread active on another communicator) were seen to hang at 3 ranks. Idle
        # waiting inside MPI is kept cheap by MPIR_CVAR_ENABLE_HEAVY_YIELD (launch.py).
        # Each rank's payload carries where it was sent from: ranks that took different
        # paths (a rank-dependent branch, an exception caught on some ranks only) meet in
        # different collectives, which must end in an error naming both, not in one
        # rank unpacking another's payload.
        caller = sys._getframe(1).f_code
        site = (caller.co_name, os.path.basename(caller.co_filename), self.collectives)
        self.collectives += 1
        with self._collective():
            sent = self.coll.allgather((site, user_source_line(), obj))
        if any(s != site for s, _, _ in sent):
            _diverged([(*s, line) for s, line, _ in sent])
        return [o for _, _, o in sent]

    def alltoall_obj(self, objs: list) -> list:
        """objs[r] goes to rank r; returns what each rank sent here (sample sort)."""
        with self._collective():
            return self.coll.alltoall(objs)

    def barrier(self) -> None:
        with self._collective():
            self.coll.Barrier()

    @contextlib.contextmanager
    def _collective(self):
        self.in_collective = True
        try:
            yield
        finally:
            self.in_collective = False

    def abort(self, code: int = 1) -> None:
        self.MPI.COMM_WORLD.Abort(code)


def _diverged(sites: list) -> None:
    from hpcarray.runtime.spmd import DivergenceError

    lines = "\n".join(f"  rank {r}: at {line}, collective #{n + 1} ({name} in {file})"
                      for r, (name, file, n, line) in enumerate(sites))
    raise DivergenceError(
        "ranks reached different collective steps:\n" + lines + "\nThe ranks took "
        "different paths through the program (code that branches on the rank, or an "
        "exception caught on some ranks only); every rank must make the same hpcarray calls.")


def launched_by_mpi() -> bool:
    return any(v in os.environ for v in _LAUNCHER_VARS)


def make_comm():
    """MPI when the process was started by an MPI launcher with more than one rank."""
    if os.environ.get("HPCARRAY_MPI", "").lower() in ("0", "off", "no") or not launched_by_mpi():
        return LocalComm()
    try:
        import mpi4py

        mpi4py.rc.thread_level = "multiple"
        from mpi4py import MPI
    except ImportError:
        return LocalComm()
    if MPI.COMM_WORLD.Get_size() == 1:
        return LocalComm()
    return MPIComm(MPI)


# Polls while messages are under way: the first this long after the last progress, then
# twice as long each time up to the most. Each wait costs a wakeup (~10 us of CPU): from
# 1 us on, a halo-bound loop spent a tenth of a rank's CPU time here; messages whose
# tasks take a millisecond lose little to a first look after 50 us.
POLL_FIRST = 50e-6
POLL_MOST = 5e-4


class Progress(threading.Thread):
    """The progress thread: posts the point-to-point messages of ready copy tasks and
    completes each task when its message has gone or arrived.

    A poll costs the same however many messages are under way: one MPI_Testsome over the
    sends, and one probe per rank waited for, for any message of it that has arrived
    (matched to the receive task waiting for its tag, or kept until that task is posted).
    Polling each message in turn was a tenth of a rank's CPU time in a halo-bound loop."""

    def __init__(self, comm: MPIComm, complete, thread_init=None):
        super().__init__(name="hpcarray-progress", daemon=True)
        self.comm = comm
        self.complete = complete
        self.thread_init = thread_init  # first thing on the thread (Backend.bind_thread)
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.sending: list = []  # tasks whose sends are under way
        self.requests: list = []  # their requests, in the same order
        self.waiting: dict[tuple[int, int], collections.deque] = {}  # (src, tag) -> receives
        self.early: dict[tuple[int, int], collections.deque] = {}  # (src, tag) -> messages
        self.status = comm.MPI.Status()

    def post(self, task) -> None:
        self.inbox.put(task)

    def stop(self) -> None:
        self.inbox.put(None)

    def waited_for(self) -> set[int]:
        """The ranks whose messages receive tasks wait for (also asked from other
        threads: the keys are copied at once)."""
        return {src for src, _ in list(self.waiting)}

    def sends_under_way(self) -> bool:
        return bool(self.requests)

    def run(self) -> None:
        # Between polls of the messages under way, wait on the inbox: a newly ready
        # message is posted at once instead of after the sleep.
        if self.thread_init is not None:
            self.thread_init()
        delay = 0.0
        while True:
            busy = bool(self.requests or self.waiting)
            try:
                task = self.inbox.get(block=not busy or delay > 0,
                                      timeout=delay if busy and delay else None)
            except queue.Empty:
                task = False
            if task is None:
                return
            if task is not False:
                self._start(task)
                delay = 0.0
                continue
            if self._poll():
                delay = 0.0
            else:
                delay = min(max(delay * 2, POLL_FIRST), POLL_MOST)

    def _start(self, task) -> None:
        kind, peer, tag, payload = task.comm
        p2p = self.comm.p2p
        try:
            if kind == "send":  # an array (backend.outgoing's), sent from its buffer
                req = p2p.Isend(payload(), dest=peer, tag=tag)
            elif kind == "send_obj":  # a Python object (reduction partials), pickled
                try:
                    obj = payload()
                except Exception:  # noqa: BLE001 - a failed partial: the receiver fails too
                    obj = None
                req = p2p.isend(obj, dest=peer, tag=tag)
            else:
                msg = _take(self.early, (peer, tag))
                if msg is not None:
                    self._deliver(task, payload, msg)
                else:
                    self.waiting.setdefault((peer, tag), collections.deque()).append(
                        (task, payload))
                return
            self.sending.append(task)
            self.requests.append(req)
        except BaseException as exc:  # noqa: BLE001 - reported like a task error
            task.comm_error = exc
            self.complete(task)

    def _deliver(self, task, deliver, msg) -> None:
        try:
            deliver(msg)
        except BaseException as exc:  # noqa: BLE001 - reported like a task error
            task.comm_error = exc
        self.complete(task)

    def _poll(self) -> bool:
        progressed = False
        if self.requests:
            try:
                done = self.comm.MPI.Request.Testsome(self.requests)
            except BaseException as exc:  # noqa: BLE001 - every send under way fails
                for task in self.sending:
                    task.comm_error = exc
                done = range(len(self.sending))
            if done:
                progressed = True
                gone = set(done)
                for i in gone:
                    self.complete(self.sending[i])
                self.sending = [t for i, t in enumerate(self.sending) if i not in gone]
                self.requests = [r for i, r in enumerate(self.requests) if i not in gone]
        if self.waiting:
            # Per rank waited for, not MPI_ANY_SOURCE: MPICH fails any-source operations
            # of every rank at once when one rank dies, which then ended a healthy rank
            # before the dead one was seen (the launcher names the first rank seen dead).
            p2p, status = self.comm.p2p, self.status
            for source in self.waited_for():
                while True:
                    msg = p2p.improbe(source=source, status=status)  # any tag
                    if msg is None:
                        break
                    progressed = True
                    key = (source, status.Get_tag())
                    receiver = _take(self.waiting, key)
                    if receiver is None:  # its receive task is not posted yet
                        self.early.setdefault(key, collections.deque()).append(msg)
                    else:
                        self._deliver(receiver[0], receiver[1], msg)
        return progressed


def _take(queues: dict, key):
    """The first item queued under `key` (None if none), dropping the emptied queue."""
    queue_ = queues.get(key)
    if not queue_:
        return None
    item = queue_.popleft()
    if not queue_:
        del queues[key]
    return item
