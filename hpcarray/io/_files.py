"""Files that every rank reads and writes in place: positioned transfers, the agreement
that all ranks name the same file, and writes that leave either the whole new file or
nothing (a temporary name in the same directory, renamed by rank 0 at the end).

A path is opened here and moved with positioned system calls (os.pwritev/os.preadv, many
runs per call); a file object the caller opened is moved with seek and write/readinto,
from its current position, and left positioned after the data as NumPy leaves it."""

from __future__ import annotations

import errno
import os
import pickle
import secrets
from collections.abc import Callable

import numpy as np

from hpcarray.io._tiles import as_bytes
from hpcarray.runtime import get_runtime

_IOV_MAX = 1024  # buffers per positioned call (Linux's IOV_MAX)


def is_path(file) -> bool:
    return isinstance(file, (str, os.PathLike))


def display_name(file) -> str:
    if is_path(file):
        return os.fspath(file)
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else repr(file)


def _key(file, nranks: int) -> str | None:
    """What names the file on every rank; None where ranks cannot share it (an in-memory
    or unseekable stream, or, at several ranks, one whose name does not say which file
    it is or that appends)."""
    if is_path(file):
        path = os.fspath(file)
        if os.path.exists(path) and not os.path.isfile(path):
            return None  # a device or a pipe (/dev/null): NumPy's, in place
        return "path:" + os.path.realpath(path)
    try:
        seekable = file.seekable()
    except (AttributeError, ValueError, OSError):
        seekable = False
    if not seekable:
        return None
    if nranks == 1:
        return "object"
    name = getattr(file, "name", None)
    if isinstance(name, str) and "a" not in getattr(file, "mode", "a"):
        return "object:" + os.path.abspath(name)
    return None


def shared(file, *extra) -> list | None:
    """Collective: the ranks' `extra` values (rank 0's first) when every rank names the
    same file, which each can reach by itself; else None (each rank then works on its own
    file the way NumPy does)."""
    rt = get_runtime()
    key = _key(file, rt.nranks)
    agreed = rt.comm.allgather_obj((key, extra))
    if key is None or any(k != key for k, _ in agreed):
        return None
    return [e for _, e in agreed]


def agree(error: BaseException | None) -> None:
    """Collective: raise on every rank if any rank failed (its own error where it has one,
    else the first failing rank's)."""
    if error is not None:
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            error = OSError(f"{type(error).__name__}: {error}")
    errors = get_runtime().comm.allgather_obj(error)
    if error is not None:
        raise error
    for e in errors:
        if e is not None:
            raise e


def _named(exc: OSError, path: str, tmp: str) -> OSError:
    """An OSError about the temporary file, naming the file the user asked for."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
        return type(exc)(exc.errno, exc.strerror, path)
    return exc


# -- positioned transfers ---------------------------------------------------------------


def batches(pieces):
    """(offset, [views]) for each run of consecutive pieces that are adjacent in the file:
    one positioned call each."""
    group: list = []
    start = end = 0
    for off, run in pieces:
        if group and (off != end or len(group) == _IOV_MAX):
            yield start, group
            group = []
        if not group:
            start = end = off
        group.append(run)
        end += run.nbytes
    if group:
        yield start, group


def _positioned(call, fd: int, offset: int, bufs: list) -> int:
    """os.pwritev/os.preadv over all of `bufs` (a call may move fewer bytes); the bytes
    moved (fewer only at the end of the file)."""
    bufs = [b for b in bufs if len(b)]
    done, i = 0, 0
    while i < len(bufs):
        n = call(fd, bufs[i:i + _IOV_MAX], offset)
        if n == 0:
            break
        done += n
        offset += n
        while i < len(bufs) and n >= len(bufs[i]):
            n -= len(bufs[i])
            i += 1
        if n:
            bufs[i] = bufs[i][n:]
    return done


class Writer:
    """Positioned writes to an open descriptor, or through a file object."""

    def __init__(self, fd: int | None = None, fobj=None):
        self.fd, self.fobj = fd, fobj

    def write(self, offset: int, bufs: list) -> None:
        if self.fd is not None:
            _positioned(os.pwritev, self.fd, offset, bufs)
            return
        f = self.fobj
        if f.tell() != offset:
            f.seek(offset)
        for b in bufs:
            f.write(b)

    def write_pieces(self, base: int, pieces) -> None:
        for off, group in batches(pieces):
            self.write(base + off, [as_bytes(r) for r in group])


class Reader:
    """Positioned reads of an open file: a path opened here (preadv on its descriptor)
    or the caller's file object (seek and readinto)."""

    def __init__(self, file):
        self.name = display_name(file)
        self.owned = is_path(file)
        self.f = open(os.fspath(file), "rb") if self.owned else file  # noqa: SIM115
        self.fd = self.f.fileno() if self.owned else None

    def close(self) -> None:
        if self.owned:
            self.f.close()

    def size(self) -> int:
        if self.fd is not None:
            return os.fstat(self.fd).st_size
        here = self.f.tell()
        end = self.f.seek(0, os.SEEK_END)
        self.f.seek(here)
        return end

    def read(self, offset: int, bufs: list) -> int:
        if self.fd is not None:
            return _positioned(os.preadv, self.fd, offset, bufs)
        self.f.seek(offset)
        done = 0
        for b in bufs:
            n = self.f.readinto(b) or 0
            done += n
            if n < len(b):
                break
        return done

    def read_pieces(self, base: int, pieces) -> None:
        """Fill the pieces' views (runs of a store's tiles) from the file."""
        for off, group in batches(pieces):
            targets = [r if r.flags.c_contiguous and r.flags.writeable else np.empty_like(r)
                       for r in group]
            self.read(base + off, [as_bytes(t) for t in targets])
            for r, t in zip(group, targets):
                if t is not r:
                    r[...] = t


# -- whole-file writes ------------------------------------------------------------------


def temporary_name(path: str) -> str:
    """A fresh name next to `path` (the same file system, so the final rename is atomic;
    next to the file a symbolic link points to, which is what is replaced)."""
    head, tail = os.path.split(os.path.realpath(path))
    return os.path.join(head, f".{tail}.{secrets.token_hex(4)}.tmp")


def remove(path: str) -> None:
    """Remove a file or directory that a failed write left (if it is there)."""
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def atomically(path: str, create: Callable[[str], None], fill: Callable[[str], None],
               tmp: str | None = None,
               replace: Callable[[str, str], None] = os.replace) -> None:
    """Collective: rank 0 runs `create(tmp)`, then every rank `fill(tmp)`, then rank 0
    renames tmp to `path` (`replace(tmp, path)`). Any rank's failure is raised on every
    rank, and the temporary is removed: `path` is either the whole new file or what it
    was before. `tmp` is rank 0's choice (agreed beforehand), else made here."""
    rt = get_runtime()
    path = os.path.realpath(path)  # a symbolic link stays, its file is replaced
    if os.path.exists(path) and not (os.path.isfile(path) or os.path.isdir(path)):
        # (never rename over a device or a pipe: /dev/null would become a file)
        raise OSError(errno.EINVAL, "not a regular file or directory", path)
    if tmp is None:
        tmp = rt.comm.allgather_obj(temporary_name(path))[0]

    def step(action, ranks_all: bool) -> None:
        error = None
        if ranks_all or rt.rank == 0:
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - agreed on below, raised everywhere
                error = _named(exc, path, tmp)
        try:
            agree(error)
        except BaseException:
            if rt.rank == 0:
                remove(tmp)
            rt.comm.barrier()  # gone before any rank goes on
            raise

    step(lambda: create(tmp), False)
    step(lambda: fill(tmp), True)
    step(lambda: replace(tmp, path), False)


def write_file(file, header: bytes, pieces, nbytes: int,
               numpy_way: Callable[[], None]) -> None:
    """Collective: write `header` (rank 0) and this rank's `pieces` of the `nbytes` of
    data after it to `file`; where the ranks do not share the file, `numpy_way()` writes
    it as NumPy would, each rank on its own."""
    rt = get_runtime()
    agreed = shared(file, temporary_name(file) if is_path(file) else None)
    if agreed is None:
        numpy_way()
        return
    total = len(header) + nbytes
    if is_path(file):
        def create(tmp: str) -> None:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                os.ftruncate(fd, total)
                Writer(fd).write(0, [header])
            finally:
                os.close(fd)

        def fill(tmp: str) -> None:
            fd = os.open(tmp, os.O_WRONLY)
            try:
                Writer(fd).write_pieces(len(header), pieces)
            finally:
                os.close(fd)

        atomically(os.fspath(file), create, fill, agreed[0][0])
        return
    start = file.tell()
    error = None
    try:
        out = Writer(fobj=file)
        if rt.rank == 0:
            out.write(start, [header])
        out.write_pieces(start + len(header), pieces)
        file.flush()
    except Exception as exc:  # noqa: BLE001 - agreed on below, raised everywhere
        error = exc
    agree(error)
    file.seek(start + total)


def write_whole(file, write: Callable[[object], None]) -> None:
    """Collective: a file NumPy writes whole, `write(f)` on an open binary file (data
    hpcarray does not write in place). A file the ranks share is written once, by rank 0
    (a path through a temporary name); a file of each rank's own by that rank."""
    rt = get_runtime()
    agreed = shared(file, temporary_name(file) if is_path(file) else None)
    if agreed is None:
        write(file)
        return
    if is_path(file):
        def create(tmp: str) -> None:
            with open(tmp, "xb") as f:
                write(f)

        atomically(os.fspath(file), create, lambda tmp: None, agreed[0][0])
        return
    error, end = None, None
    if rt.rank == 0:
        try:
            write(file)
            file.flush()
            end = file.tell()
        except Exception as exc:  # noqa: BLE001 - agreed on below, raised everywhere
            error = exc
    agree(error)
    ends = rt.comm.allgather_obj(end)
    if rt.rank != 0:
        file.seek(ends[0])
