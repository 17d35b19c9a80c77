"""The per-process runtime: settings, communicator, scheduler, trace recorder, stores."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import math
import os
import pickle
import sys
import time

import numpy as np

from hpcarray.runtime import backend, placed
from hpcarray.runtime.algorithms.reshape_tiling import matched_tiling, reshape_tiling
from hpcarray.runtime.comm import Progress, make_comm
from hpcarray.runtime.config import Settings
from hpcarray.runtime.distribution import Distribution
from hpcarray.runtime.partition import (
    ALL,
    Tiling,
    aligned_bounds,
    bounds,
    choose_tiling,
    full_rect,
    intersect,
    rect_slices,
    tiling_along,
)
from hpcarray.runtime.placed import Placed, window
from hpcarray.runtime.scheduler import Operation, Scheduler, Task
from hpcarray.runtime.store import AliasBlock, Block, PartBlock, Store
from hpcarray.runtime.trace import Recorder, user_source_line
from hpcarray.runtime.view import View

# Ghost rows (along every axis a rank's tiles do not span) a new block starts with.
GHOST = 1


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.comm = make_comm()
        self.rank = self.comm.rank
        self.nranks = self.comm.size
        self.processors = self.nranks * settings.workers
        self.recorder = (
            Recorder(settings.profile_dir, self.rank, self.nranks, settings.workers)
            if settings.tracing else None
        )
        self.nvtx = _load_nvtx() if settings.nvtx else None
        # Recorded or in NVTX ranges: every operation is issued as tasks (no fast path),
        # so that each one is recorded and gets its range.
        self.observed = self.recorder is not None or self.nvtx is not None
        # Tile memory and kernels (backend/): chosen per rank from one setting; made
        # before the threads that compute, which it binds (a GPU's stream).
        self.backend = backend.select(settings.backend, settings.pool_bytes, self.nranks,
                                      rank=self.rank,
                                      gpu_memory_bytes=settings.gpu_memory_bytes)
        self.pool = self.backend.pool
        if self.recorder is not None:
            self.recorder.gpu = self.backend.timer(self.recorder.now)
        self.scheduler = Scheduler(settings.workers, settings.window_tasks, self.recorder,
                                   self.nvtx, settings.eager, settings.window_bytes,
                                   self.backend.bind_thread)
        self.dist: Distribution | None = None
        self.end_watch = None  # hears the other ranks end (failure.py)
        if self.nranks > 1:
            if settings.switch_interval_us and not settings.eager:
                sys.setswitchinterval(settings.switch_interval_us * 1e-6)
            self.dist = Distribution(self.rank, self.nranks)
            self.scheduler.agreed_errors = True
            self.scheduler.progress = Progress(self.comm, self.scheduler.complete_copy,
                                               self.backend.bind_thread)
            self.scheduler.progress.start()
            from hpcarray.runtime import failure

            self.end_watch = failure.install(self)
            if self.rank != 0 and not settings.print_all_ranks:
                _silence_stdout()
        from hpcarray.runtime.fusion import Fuser

        self.fusion = Fuser(self) if settings.fusion else None
        self.spmd = None
        if self.dist is not None and settings.check_spmd:
            from hpcarray.runtime.spmd import SpmdChecker

            self.spmd = SpmdChecker(self.comm)
        # Blocks that stores of a tiling grew to (cover): new stores start there.
        self._learned_blocks: dict[Tiling, tuple] = {}
        self._geometries: dict[tuple, tuple] = {}  # (see _block_geometry)
        self._makers: dict[tuple, object] = {}  # (see _maker)
        placed.globalize = self.globalize
        self.globalized = 0  # stores made whole on every rank (tests, summaries)
        self.min_split = settings.min_split_elements
        self._test_tiles = settings.test_tiles if settings.test_mode else 0
        # Sizes below this take the fast path (none in test mode: tiny tiles everywhere).
        self.small_limit = 0 if self._test_tiles else self.min_split
        self._op_ids = itertools.count()
        self._task_ids = itertools.count()
        self._finalized = False
        # Point-to-point traffic this rank sent (messages, bytes): tests and summaries.
        self.sent = [0, 0]
        atexit.register(self._finalize_at_exit)

    # -- stores -----------------------------------------------------------------------

    def tiling(self, shape: tuple[int, ...]) -> Tiling:
        return choose_tiling(shape, self.processors, self.nranks, self.min_split,
                             self._test_tiles)

    def is_small(self, size: int) -> bool:
        """Below the partitioning threshold: one tile, and the fast path may apply."""
        return size < self.small_limit

    def cut(self, n: int, pieces: int) -> tuple[int, ...]:
        """Edges of `pieces` tiles along an axis of extent n, as tilings cut them."""
        return bounds(n, pieces) if self._test_tiles else aligned_bounds(n, pieces)

    def tiling_along(self, shape: tuple[int, ...], axis: int) -> Tiling:
        """A tiling with every lane along `axis` in one tile (see partition.tiling_along)."""
        return tiling_along(shape, (axis,), self.processors, self.nranks, self.min_split,
                            self._test_tiles)

    def tiling_rows(self, shape: tuple[int, ...]) -> Tiling:
        """A tiling that cuts only the first axis: each rank owns a run of whole rows."""
        return tiling_along(shape, tuple(range(1, len(shape))), self.processors,
                            self.nranks, self.min_split, self._test_tiles)

    def new_store(self, shape: tuple[int, ...], dtype: np.dtype, zero: bool = False,
                  tiling: Tiling | None = None) -> Store:
        backend, pool = self.backend, self.pool
        dtype = np.dtype(dtype)
        tiling = tiling or self.tiling(shape)
        block = self._block_rect(tiling)
        if block is None:
            bshape, origin = shape, None
        else:
            origin, bshape = self._block_geometry(block)
        nbytes = _nbytes(bshape, dtype)
        if block is not None and not zero:  # memory when first used (store.Block)
            store = Store(None, tiling, shape=shape, blocked=True, block=Block(
                None, origin, None, make=self._maker(dtype, shape), extents=bshape,
                dtype=dtype))
            if pool is not None and pool.wants(nbytes):
                store.pool = pool
                store.touched = False
                pool.track(store)
        elif zero or pool is None or not pool.wants(nbytes):
            store = Store(backend.allocate(bshape, dtype, zero, shape), tiling, shape=shape,
                          origin=origin, blocked=block is not None)
        else:
            buffer = pool.take(bshape, dtype)
            store = Store(backend.allocate(bshape, dtype, False, shape) if buffer is None
                          else buffer, tiling, pool=pool, shape=shape, origin=origin,
                          blocked=block is not None)
            store.touched = buffer is not None
            pool.track(store)
        backend.live.add(store, shape, dtype, nbytes)
        return store

    def _block_geometry(self, rect) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(origin, extents) of a block rectangle (few distinct ones: made once each)."""
        geometry = self._geometries.get(rect)
        if geometry is None:
            geometry = self._geometries[rect] = (tuple(lo for lo, _ in rect), _extents(rect))
        return geometry

    def _maker(self, dtype: np.dtype, shape: tuple[int, ...]):
        """Allocates a block of an array of `shape` when it is first used: a free buffer of
        the pool's where there is one. (One per dtype and shape.)"""
        key = (dtype, shape)
        make = self._makers.get(key)
        if make is not None:
            return make
        backend, pool = self.backend, self.pool

        def make(extents: tuple[int, ...]) -> np.ndarray:
            buffer = pool.take(extents, dtype) if pool is not None else None
            return buffer if buffer is not None else backend.allocate(extents, dtype, False,
                                                                       shape)
        if len(self._makers) > 1024:  # (a program of ever new shapes)
            self._makers.clear()
        self._makers[key] = make
        return make

    def _block_rect(self, tiling: Tiling):
        """The block this rank holds of a new store with this tiling (None: one rank, or a
        store every rank holds): its own tiles' bounding box with a ghost row on each side
        where other ranks' tiles are (a stencil's halo: no growing, whose peak holds the
        old block and the new one), or the block a store of this tiling grew to before
        (a loop's new arrays get the halos the last ones needed)."""
        if self.dist is None or tiling.owners[0] == ALL:
            return None
        rect = self._learned_blocks.get(tiling)
        if rect is None:
            mine = [t for t, o in zip(tiling.tiles, tiling.owners) if o == self.rank]
            if not mine:
                return tuple((0, 0) for _ in tiling.shape)
            rect = self._learned_blocks[tiling] = tuple(
                (max(0, min(t[d][0] for t in mine) - GHOST),
                 min(n, max(t[d][1] for t in mine) + GHOST))
                for d, n in enumerate(tiling.shape))
        return rect

    def cover(self, store: Store, rect) -> None:
        """Make this rank's block of `store` hold `rect` (a task here reads or writes it):
        the first time a task reaches past the block, it grows to their bounding box,
        after the tasks already issued on it, which use the old one, are done."""
        store = store.carrier  # (a part alias's block is its root's, seen in parts)
        block = store.block
        if block.holds(rect) or not _extents(rect) or 0 in _extents(rect):
            return
        if isinstance(block, AliasBlock):  # a reshape's block is its root's, in its shape
            self.cover(store.root, (block.root_rows(rect),) + full_rect(store.root.shape)[1:])
            return
        old = _block_rect(block)
        self._regrow(store, rect if 0 in block.extents else tuple(
            (min(a, c), max(b, d)) for (a, b), (c, d) in zip(old, rect)))

    def _regrow(self, store: Store, new) -> None:
        """Give `store` the block `new` (which holds its old one), with its edges on its
        reshapes' rows (store.align), after the tasks issued on the old one are done."""
        block = store.block
        old = _block_rect(block)
        if store.align > 1:
            q = store.align
            new = ((new[0][0] // q * q, min(store.shape[0], -(-new[0][1] // q) * q)),
                   *new[1:])
        if new == old:
            return
        self.scheduler.wait_store(store)
        self._learned_blocks[store.tiling] = new
        if block._buffer is None:  # nothing in it yet: a bigger block when first used
            block.extents, block.origin = _extents(new), tuple(lo for lo, _ in new)
            return
        buffer = self.backend.allocate(_extents(new), store.dtype, False, store.shape)
        if 0 not in block.extents:
            buffer[tuple(slice(a - c, b - c) for (a, b), (c, _) in zip(old, new))] = \
                block.buffer
        block.buffer, block.origin = buffer, tuple(lo for lo, _ in new)
        store.pool = None  # its shape is not the pool's any more
        self.backend.live.add(store, store.shape, store.dtype, buffer.nbytes)

    def globalize(self, store: Store) -> None:
        """Every rank holds all of `store` from now on (collective: a whole-array NumPy
        call on it, an alias of it): its tiles are gathered into a buffer of the global
        shape, which is then the store's memory, as on one rank."""
        store = store.root  # (a matched alias's memory is its root's)
        self.globalized += 1
        if os.environ.get("HPCARRAY_DEBUG_GLOBALIZE"):
            import traceback

            traceback.print_stack(limit=8)
        buffer = self._gather_whole(store)
        block = store.block
        block.buffer, block.origin = buffer, (0,) * len(store.shape)
        store.blocked = False
        store.pool = None
        self.dist.note_everywhere(store)
        self.backend.live.add(store, store.shape, store.dtype, buffer.nbytes)

    @contextlib.contextmanager
    def lent_whole(self, stores: list[Store], written: list[Store]):
        """For the length of a replicated operation on stores held as blocks (roots):
        every rank holds each of them whole, in a temporary (Block.lent), and then keeps
        its block of what was written (collective)."""
        for store in stores:
            store.block.lent = self._gather_whole(store)
        try:
            yield
        finally:
            for store in stores:
                whole, store.block.lent = store.block.lent, None
                if any(w is store for w in written):
                    store.local(_block_rect(store.block))[...] = \
                        whole[rect_slices(_block_rect(store.block))]

    def _gather_whole(self, store: Store) -> np.ndarray:
        """All of a root store held as blocks, gathered on every rank (collective)."""
        self.flush()
        self.scheduler.wait_store(store)
        if self.spmd is not None:
            self.spmd.check()
        tiling = store.tiling
        error = self.scheduler.take_error()
        mine = {} if error is not None else {
            t: np.ascontiguousarray(self.backend.to_host(store.local(rect)))
            for t, (rect, o) in enumerate(zip(tiling.tiles, tiling.owners)) if o == self.rank}
        self.sent[1] += sum(d.nbytes for d in mine.values()) * (self.nranks - 1)
        reports = self.comm.allgather_obj((self._error_summary(error), mine))
        self._raise_agreed_error(error, [r[0] for r in reports])
        buffer = self.backend.allocate(store.shape, store.dtype, False, store.shape)
        for _, part in reports:
            for t, data in part.items():
                buffer[rect_slices(tiling.tiles[t])] = data
        return buffer

    def blocked_alias(self, root: Store, shape: tuple[int, ...]) -> Store | None:
        """The C-order reshape of the whole of `root` (held as blocks) to `shape` as a
        matched alias whose block is root's (store.AliasBlock); None where its tiles cannot
        line up with root's (the caller then makes every rank hold root whole)."""
        tiling = reshape_tiling(self, root, shape)
        if tiling is None or not root.tiling.is_slabs:
            return None
        row, alias_row = math.prod(root.shape[1:]), math.prod(shape[1:])
        q = alias_row // math.gcd(row, alias_row)  # root rows per whole alias row
        root.align = root.align * q // math.gcd(root.align, q)
        if 0 not in root.block.extents:  # its edges on the alias's rows from now on
            self._regrow(root, _block_rect(root.block))
        alias = Store(root.buffer, tiling, root=root, shape=shape)
        alias.block = AliasBlock(root, shape, alias)
        alias.matched = root.pinned = True
        return alias

    def part_alias(self, store: Store, part) -> Store:
        """`.real`, `.imag` or a view as a dtype of the same itemsize (`part`: "real",
        "imag" or the dtype) of the whole of `store` (held as blocks: a root or a part
        alias of one) as a matched alias whose block is the root's seen through it
        (store.PartBlock): the root's shape and tiles, so it runs distributed."""
        root = store.root
        parts = (store.block.parts if store.is_alias else ()) + (part,)
        alias = Store(None, root.tiling, root=root, shape=root.shape,
                      block=PartBlock(root.block, parts))
        alias.matched = root.pinned = True  # (its tiling is root's: root's must not move)
        return alias

    def gathered(self, view: View) -> np.ndarray:
        """A view's values as a new NumPy array on every rank (collective), for a store
        this rank holds only a block of: its tiles are gathered into a temporary."""
        store = view.store
        self.flush()
        self.scheduler.wait_store(store)
        if self.spmd is not None:
            self.spmd.check()
        img = view.image(full_rect(view.shape))
        tiling = store.tiling
        error = self.scheduler.take_error()
        pieces = {t: intersect(img, tiling.tiles[t]) for t in tiling.tiles_in(img)}
        mine = {} if error is not None else {
            t: np.ascontiguousarray(self.backend.to_host(store.local(p))) for t, p in pieces.items()
            if p is not None and tiling.owners[t] == self.rank}
        self.sent[1] += sum(d.nbytes for d in mine.values()) * (self.nranks - 1)
        reports = self.comm.allgather_obj((self._error_summary(error), mine))
        self._raise_agreed_error(error, [r[0] for r in reports])
        temp = Block(np.empty(_extents(img), store.dtype), tuple(lo for lo, _ in img), store)
        for _, part in reports:
            for t, data in part.items():
                temp.local(pieces[t])[...] = data
        return window(temp, view.start, view.shape, view.dims, None)

    def reuse_buffer(self, store: Store, arr) -> None:
        """A fresh result about to be written for the first time (a fused kernel's live
        output): if a buffer of its shape is free in the pool, or will be once pending
        tasks of a dropped store finish, write there instead of faulting in new pages.
        Only where the result's buffer is referenced by nothing but `arr` and the store."""
        pool = self.pool
        if pool is None or store.touched or store.pool is None or arr is None:
            return
        block = store.block
        buffer = block._buffer  # (None: not allocated yet, referenced by nothing)
        placed = isinstance(arr._np, Placed)
        # References: the block, `arr._np` (unless a Placed array, which holds the
        # block), `buffer` and getrefcount's argument.
        if (arr._np.block is not block if placed else arr._np is not buffer) or (
                buffer is not None and sys.getrefcount(buffer) != (3 if placed else 4)):
            return
        shape = block.extents
        new = pool.take(shape, store.dtype)
        if new is None:
            # Waiting for the dying store's tasks is safe across ranks too: they were
            # issued already, so the messages they need come from tasks the other ranks
            # issued before any sync point this rank has not reached; those run on their
            # workers and progress threads, whatever their main threads wait for. (Without
            # it, every result of a loop at 2 ranks faulted in fresh pages: 29 % of the CPU
            # time of logistic regression went to the kernel zeroing them.)
            with self.scheduler.lock:  # no task completes while references are counted
                dying = pool.dying(shape, store.dtype)
            if dying:
                self.scheduler.wait_store(dying[0])
                del dying  # the store dies here and gives its buffer to the pool
                new = pool.take(shape, store.dtype)
        if new is not None:
            store.buffer = new
            if not placed:
                arr._np = new
            store.touched = True

    def own_rects(self, store: Store) -> list:
        """The rectangles of the tiles this rank owns and computes (every tile on one
        rank; the whole store for a replicated one): what it reads and writes in I/O."""
        tiling = store.tiling
        if self.dist is None or tiling.owners[0] == ALL:
            return [full_rect(store.shape)]
        return [t for t, o in zip(tiling.tiles, tiling.owners) if o == self.rank]

    def filled_locally(self, store: Store) -> None:
        """Each rank wrote its own tiles of `store` on the main thread (a file read): the
        others do not hold them."""
        if self.dist is not None:
            self.dist.note_write(store, full_rect(store.shape))

    def wrap_buffer(self, buffer: np.ndarray) -> Store:
        """A store over an existing NumPy buffer (already filled; across ranks, every
        rank has the same one): a rank keeps only its block of it."""
        tiling = self.tiling(buffer.shape)
        block = self._block_rect(tiling) if buffer.flags.writeable else None
        if block is None:
            store = Store(self.backend.from_host(buffer), tiling)
        else:
            mine = self.backend.allocate(_extents(block), buffer.dtype, False, buffer.shape)
            mine[...] = buffer[rect_slices(block)]
            store = Store(mine, tiling, shape=buffer.shape,
                          origin=tuple(lo for lo, _ in block), blocked=True)
        self.backend.live.add(store, store.shape, store.dtype, store.buffer.nbytes)
        return store

    def alias_store(self, buffer: np.ndarray, root: Store) -> Store:
        """A store over a view of root's buffer. Across ranks, a reshape whose tiles can
        line up with its root's is *matched* (reshape_tiling.py); others replicate."""
        root = root.root
        if root.blocked:
            raise AssertionError("an alias of a store held as blocks: globalize it first")
        tiling = matched_tiling(self, root, buffer)
        store = Store(buffer, tiling or self.tiling(buffer.shape), root=root)
        if tiling is not None:
            store.matched = root.pinned = True
        return store

    # -- operations and tasks ---------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Nothing pending, nothing observed, one rank: an operation may run inline now."""
        fusion = self.fusion
        return (self.scheduler.pending == 0 and not self.observed and self.dist is None
                and (fusion is None or (fusion.group is None and not fusion.chain)))

    def flush(self) -> None:
        """Launch the pending fused group, if any (before anything else is issued)."""
        if self.fusion is not None:
            self.fusion.flush()

    def operation(self, name: str, reads=(), writes=(), src: str = "") -> Operation:
        """Issue an operation; `src` names the user's lines it comes from (a fused
        kernel's members, trace.source_span), else the caller's line is taken."""
        self.flush()
        self.scheduler.raise_error()  # a failed task: raise before issuing more
        rec = self.recorder
        if not src and (rec or self.spmd):
            src = user_source_line()
        op = Operation(next(self._op_ids), name, src)
        if self.spmd is not None:
            self.spmd.record(name, op.src)
        for s in writes:
            s.touched = True  # its buffer's pages are (about to be) in memory: reusable
        if rec is not None:
            for s in (*reads, *writes):
                rec.store(s.id, s.shape, str(s.dtype), s.name)
            read_versions = [[s.id, s.version] for s in reads]
            for s in writes:
                s.version += 1
            rec.op(op.id, name, op.src, read_versions, [[s.id, s.version] for s in writes])
        return op

    def task(self, op: Operation, kernel, tile, nbytes: int = 0) -> Task:
        return Task(next(self._task_ids), op, kernel, tile, nbytes)

    def submit(self, task: Task, reqs, after=(), borrowed=()) -> None:
        """Submit a task this rank runs; its blocks grow first where it reaches past them
        (not for what it reads of `borrowed` copies, store.Borrowed)."""
        if self.dist is not None:
            for store, rect, _ in reqs:
                if store.blocked and (not borrowed or not any(
                        c.block is store.carrier.block and c.holds(rect) for c in borrowed)):
                    self.cover(store, rect)
        self.scheduler.submit(task, reqs, after)

    def wait(self, store: Store) -> None:
        self.flush()
        self.scheduler.wait_store(store)

    # -- data movement between ranks ----------------------------------------------------

    def message(self, op: Operation, store: Store, piece, src: int, dst: int,
                into=None) -> None:
        """Move `piece` of `store` from rank src (its owner) to rank dst's local buffer, or
        on dst into the borrowed copy `into` (store.Borrowed) of the task that reads it."""
        tag = self.dist.next_tag()
        if self.rank not in (src, dst):
            return
        store = store.carrier  # whole elements: what coherence counts
        # The piece is found in the block when the message moves (the block may grow).
        block, shape, dtype = store.block, _extents(piece), store.dtype
        task = self.task(op, None, piece, _nbytes(shape, dtype))
        task.store_id = store.id
        if self.rank == src:
            self.sent[0] += 1
            self.sent[1] += task.nbytes
            outgoing = self.backend.outgoing  # contiguous; a GPU's: what MPI can take
            task.comm = ("send", dst, tag, lambda: outgoing(block.local(piece)))
            self.submit(task, [(store, piece, False)])
        else:
            def deliver(msg):
                tmp = self.backend.message_buffer(shape, dtype)
                msg.Recv(tmp)
                if into is not None:
                    into.pieces.append((piece, tmp))
                else:
                    self.backend.incoming(block.local(piece), tmp)
            task.comm = ("recv", src, tag, deliver)
            self.submit(task, [(store, piece, True)], borrowed=() if into is None else (into,))

    def send_object(self, op: Operation, get, src: int, dst: int, after=()):
        """Send a Python object (a reduction partial) from src to dst; on dst, returns the
        task that receives it into `slot[0]` of the returned list."""
        tag = self.dist.next_tag()
        if self.rank == src:
            task = self.task(op, None, ())
            task.comm = ("send_obj", dst, tag, get)
            self.submit(task, [], after=after)
            return None
        if self.rank == dst:
            slot: list = [None]
            task = self.task(op, None, ())

            def deliver(msg):
                slot[0] = msg.recv()
            task.comm = ("recv", src, tag, deliver)
            self.submit(task, [])
            return task, slot
        return None

    def gather(self, store: Store, rect=None) -> None:
        """Sync point: wait for local work on the store, then make every rank hold it."""
        self.flush()
        if self.dist is None:
            self.scheduler.wait_store(store)
            return
        self.scheduler.wait_store(store)
        if self.spmd is not None:
            self.spmd.check()
        # One collective per sync point carries both the error reports and the tiles.
        pieces = self.dist.pieces_to_gather(store, rect,
                                            self.dist.tiles_to_gather(store, rect))
        error = self.scheduler.take_error()
        mine = self.dist.my_pieces(store, pieces) if error is None else {}
        self.sent[1] += sum(d.nbytes for d in mine.values()) * (self.nranks - 1)
        reports = self.comm.allgather_obj((self._error_summary(error), mine))
        self._raise_agreed_error(error, [r[0] for r in reports])
        self.dist.install(store, pieces, [r[1] for r in reports])

    @contextlib.contextmanager
    def collective(self, kind: str, op: Operation):
        """Around a collective exchange on the main thread (sample sort, index exchange):
        the trace shows it as one event in this rank's communication lane."""
        rec = self.recorder
        start, before = (rec.now() if rec is not None else 0), self.sent[1]
        yield
        if rec is not None:
            rec.copy(next(self._task_ids), op.id, kind, "all", self.rank, -1, -1, -1, (),
                     self.sent[1] - before, start, rec.now())

    def settle(self, store: Store) -> None:
        """Sync point before a collective algorithm on `store` (sample sort): local work
        on it is done, the ranks are in lock-step, and no rank has a failed task."""
        self.flush()
        self.scheduler.wait_store(store)
        if self.dist is None:
            return
        if self.spmd is not None:
            self.spmd.check()
        self._agree_on_errors(self.scheduler.take_error())

    def _agree_on_errors(self, error) -> None:
        reports = self.comm.allgather_obj(self._error_summary(error))
        self._raise_agreed_error(error, reports)

    @staticmethod
    def _error_summary(error):
        summary = None
        if error is not None:
            exc, op = error
            try:
                summary = (exc, op.name, op.src)
                pickle.dumps(summary)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                summary = (RuntimeError(f"{type(exc).__name__}: {exc}"), op.name, op.src)
        return summary

    def _raise_agreed_error(self, error, reports) -> None:
        """A task error on any rank is raised on every rank at the same sync point, so
        ranks stay in lock-step (a program may catch it, as with NumPy)."""
        from hpcarray.runtime.scheduler import raise_task_error

        for rank, report in enumerate(reports):
            if report is None:
                continue
            if error is not None:
                raise_task_error(error[0], error[1], self.rank)
            exc, name, src = report
            raise_task_error(exc, Operation(-1, name, src), rank)

    def drain(self) -> None:
        self.flush()
        self.scheduler.drain()

    def sync(self) -> None:
        """Every rank waits for all its pending tasks (errors raised on every rank)."""
        self.flush()
        if self.dist is None:
            self.scheduler.drain()
            return
        self.scheduler.drain_quietly()
        self._agree_on_errors(self.scheduler.take_error())

    # -- exit -------------------------------------------------------------------------

    def finalize(self, outcome=None) -> int:
        """End this rank: finish pending work, write the trace and, with several ranks,
        agree with the others on how the job ends (failure.py). `outcome` is how the
        program ended (None: it ran to its end). Returns the job's exit status."""
        from hpcarray.runtime import failure

        if self._finalized:
            return 0
        self._finalized = True
        outcome = outcome or failure.Outcome()
        if self.dist is None and outcome.text:
            sys.stderr.write(outcome.text)  # before the profile's summary, as Python would
            sys.stderr.flush()
        try:
            self.flush()
        except BaseException as exc:  # noqa: BLE001 - a fused group that fails to launch
            if not outcome.early:
                outcome = failure.error_outcome(exc)
        # After an early end, pending tasks may wait for messages of operations the other
        # ranks never issue: wait a bounded time, for the trace to hold what ran.
        self._drain(failure.GRACE_SECONDS if outcome.early else None)
        error = self.scheduler.take_error()
        if error is not None and not outcome.early:
            outcome = failure.task_error_outcome(error)
            if self.dist is None:
                sys.stderr.write(outcome.text)
        self.scheduler.shutdown()
        if self.pool is not None:
            self.pool.clear()
        global _runtime
        if _runtime is self:  # ended: a later call in this process (`hpcarray run` called
            _runtime = None   # in-process, as tests do) starts a fresh runtime
        if self.dist is not None:
            return failure.end_job(self, outcome)
        self.write_trace()
        self.render_profile()
        return outcome.status

    def _finalize_at_exit(self) -> None:
        status = self.finalize()
        if status:  # a deferred error, or another rank's: the process ends with it
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def _drain(self, seconds: float | None) -> None:
        sch = self.scheduler
        if seconds is None or sch.eager:
            sch.drain_quietly()
            return
        deadline = time.monotonic() + seconds
        with sch.lock:
            while sch.pending and time.monotonic() < deadline:
                sch.changed.wait(deadline - time.monotonic())

    def write_trace(self) -> None:
        """This rank's trace as far as it got (several ranks: before it tells the others
        it ended, so rank 0 renders only when every trace is on disk)."""
        if self.recorder is not None:
            self.recorder.write(_script_name(), list(sys.argv))

    def render_profile(self) -> None:
        """Rank 0 renders the traces on disk (`hpcarray run -n N` renders them itself, after
        the job, however it ended: HPCARRAY_NO_RENDER)."""
        if self.recorder is None or self.rank != 0 or os.environ.get("HPCARRAY_NO_RENDER"):
            return
        render_profile(self.settings.profile_dir, self.settings.dataflow,
                       self.settings.event_graph, _script_name())


def render_profile(directory: str, dataflow: bool, event: bool, script: str) -> None:
    """Render a profile directory's traces and print the summary (stderr)."""
    try:
        from hpcarray.profiling.render import render_all
    except ImportError:
        return
    summary = render_all(directory, timeline=True, dataflow=dataflow, event=event,
                         script_name=script)
    if summary:
        print(summary, file=sys.stderr)


def _script_name() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"


def _block_rect(block: Block):
    """The store rectangle a block holds."""
    return tuple((o, o + n) for o, n in zip(block.origin, block.extents))


def _extents(rect) -> tuple[int, ...]:
    return tuple(hi - lo for lo, hi in rect)


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    n = dtype.itemsize
    for extent in shape:
        n *= extent
    return n


def _silence_stdout() -> None:
    """Ranks other than 0 print nothing to stdout: `print(x)` prints once per job (the
    values are the same on every rank). Errors still reach stderr, marked by rank."""
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _load_nvtx():
    try:
        from hpcarray.profiling import nvtx
    except ImportError:
        return None
    nvtx.enable()
    return nvtx


_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime(Settings.from_env())
    return _runtime


def reset_runtime(settings: Settings | None = None) -> Runtime:
    """Finish the current runtime and start a new one (tests switch settings this way)."""
    global _runtime
    if _runtime is not None:
        _runtime.finalize()
    _runtime = Runtime(settings or Settings.from_env())
    return _runtime
