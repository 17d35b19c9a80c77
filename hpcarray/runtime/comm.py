"""Communication between ranks.

`LocalComm` is the one-process stand-in used without MPI. `MPIComm` wraps mpi4py with two
duplicated communicators: point-to-point traffic (halos, partials) runs on the progress
thread, collectives (gathers at sync points) on the main thread, in program order on every
rank. The progress thread polls with a short sleep instead of spinning inside MPI; the
collectives block inside MPI, where MPIR_CVAR_ENABLE_HEAVY_YIELD (set by `hpcarray run`)
keeps waiting ranks from stealing the cores of busy ones on an oversubscribed node.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading

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
        node = world.Split_type(MPI.COMM_TYPE_SHARED)
        self.local_size = node.Get_size()  # ranks on this node (they share its cores)
        node.Free()

    # -- collectives on the main thread ------------------------------------------------

    def allgather_obj(self, obj) -> list:
        # Blocking: MPICH's nonblocking collectives polled from Python (with the progress
        # thread active on another communicator) were seen to hang at 3 ranks. Idle
        # waiting inside MPI is kept cheap by MPIR_CVAR_ENABLE_HEAVY_YIELD (launch.py).
        with self._collective():
            return self.coll.allgather(obj)

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


class Progress(threading.Thread):
    """The progress thread: posts the point-to-point messages of ready copy tasks and
    completes each task when its message has gone or arrived."""

    def __init__(self, comm: MPIComm, complete, thread_init=None):
        super().__init__(name="hpcarray-progress", daemon=True)
        self.comm = comm
        self.complete = complete
        self.thread_init = thread_init  # first thing on the thread (Backend.bind_thread)
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.active: list = []

    def post(self, task) -> None:
        self.inbox.put(task)

    def stop(self) -> None:
        self.inbox.put(None)

    def run(self) -> None:
        # Between polls of the messages under way, wait on the inbox: a newly ready
        # message is posted at once instead of after the sleep.
        if self.thread_init is not None:
            self.thread_init()
        delay = 0.0
        while True:
            try:
                task = self.inbox.get(block=not self.active or delay > 0,
                                      timeout=delay if self.active and delay else None)
            except queue.Empty:
                task = False
            if task is None:
                return
            if task is not False:
                self._start(task)
                delay = 0.0
                continue
            if self._poll_active():
                delay = 0.0
            else:
                delay = min(max(delay * 2, 1e-6), 5e-4)

    def _start(self, task) -> None:
        kind, peer, tag, payload = task.comm
        p2p = self.comm.p2p
        try:
            if kind == "send":  # an array (backend.outgoing's), sent from its buffer
                req = p2p.Isend(payload(), dest=peer, tag=tag)
                self.active.append((task, req, None))
            elif kind == "send_obj":  # a Python object (reduction partials), pickled
                try:
                    obj = payload()
                except Exception:  # noqa: BLE001 - a failed partial: the receiver fails too
                    obj = None
                req = p2p.isend(obj, dest=peer, tag=tag)
                self.active.append((task, req, None))
            else:
                self.active.append((task, None, payload))
        except BaseException as exc:  # noqa: BLE001 - reported like a task error
            task.comm_error = exc
            self.complete(task)

    def _poll_active(self) -> bool:
        progressed = False
        still = []
        p2p = self.comm.p2p
        for task, req, deliver in self.active:
            try:
                if req is not None:
                    done = req.Test() if hasattr(req, "Test") else req.test()[0]
                    if not done:
                        still.append((task, req, deliver))
                        continue
                else:
                    _, peer, tag, _ = task.comm
                    msg = p2p.improbe(source=peer, tag=tag)
                    if msg is None:
                        still.append((task, req, deliver))
                        continue
                    deliver(msg)
            except BaseException as exc:  # noqa: BLE001
                task.comm_error = exc
            progressed = True
            self.complete(task)
        self.active = still
        return progressed
