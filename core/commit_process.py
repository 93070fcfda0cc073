"""Commits in a process of their own: for a store whose writes need an interpreter all along (SQLite runs in
the loading process), a forked child commits the groups of batches while this process checks the next ones.

The child inherits the store as it was at the fork and commits each group it is sent, in order, each in
one transaction as the store's commit_batches does. This side pickles each group and hands it to a thread
that only writes it to a pipe; another thread only reads the answers. Both wait on the pipe with the
interpreter released, so neither takes turns with the validation (the work that needs it).

Nothing lands twice or is lost when either side dies. The child commits a group whole or not at all. On
Linux it dies with the loading process (a worker killed, `flask load` ended): its transaction under way
rolls back, and no orphan writes beside the run that takes the load over. Elsewhere a child that finds its
input closed exits after the group under way. Either way a re-run commits the batches not recorded. A
child that dies fails every group not yet answered as StoreUnavailable, so the load is tried again like
one that lost its database."""
from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import pickle
import queue
import signal
import sys
import threading
from collections import deque
from concurrent.futures import Future
from typing import Sequence

from core.errors import StoreUnavailable
from core.forks import FORK_LOCK
from core.ports import BatchWrite, LoadStore
from core.summary import BatchSummary

log = logging.getLogger(__name__)

_STOPPING = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class CommitProcess:
    """A forked child that commits the groups it is sent through the store, in order; each submit returns a
    Future of that group's summaries. close() lets the child commit what it was sent, then waits for it.
    Raises OSError when the system cannot fork now (nothing is left behind)."""

    def __init__(self, store: LoadStore) -> None:
        from_parent, to_child = os.pipe()
        from_child, to_parent = os.pipe()
        parent = os.getpid()
        for stream in (sys.stdout, sys.stderr):  # else what they hold is written by both processes
            stream.flush()
        # A stop signal that came between the fork and the child's own handlers would run the parent's
        # (a worker's shutdown, Ctrl-C's KeyboardInterrupt) in the child, on the parent's stack.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            with FORK_LOCK:
                pid = os.fork()
            if pid == 0:
                _child(store, parent, (to_child, from_child), from_parent, to_parent)  # never returns
        except OSError:
            for fd in (from_parent, to_child, from_child, to_parent):
                os.close(fd)
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self._pid = pid
        os.close(from_parent)
        os.close(to_parent)
        self._unanswered: deque[Future[list[BatchSummary]]] = deque()
        self._answers_lock = threading.Lock()
        self._gone: StoreUnavailable | None = None  # once the child has stopped answering
        self._outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_groups, args=(to_child,),
                                        name="commit-process-writer", daemon=True)
        self._reader = threading.Thread(target=self._read_answers, args=(from_child,),
                                        name="commit-process-reader", daemon=True)
        self._writer.start()
        self._reader.start()

    def submit(self, writes: Sequence[BatchWrite]) -> Future[list[BatchSummary]]:
        # Each row as a plain tuple: unpickling rebuilds a named tuple through a Python call, a tuple in C, and
        # the child's side is the busier one. The writers read rows by position.
        group = pickle.dumps([dataclasses.replace(write, rows=list(map(tuple, write.rows))) for write in writes],
                             pickle.HIGHEST_PROTOCOL)
        future: Future[list[BatchSummary]] = Future()
        with self._answers_lock:
            if self._gone is not None:
                future.set_exception(self._gone)
                return future
            self._unanswered.append(future)
        self._outgoing.put(group)
        return future

    def close(self) -> None:
        """The child commits every group already sent, then exits; returns once it has."""
        self._outgoing.put(None)
        try:
            self._writer.join()
            self._reader.join()
        finally:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:  # already reaped (SIGCHLD ignored by the host process)
                pass

    def _write_groups(self, pipe: int) -> None:
        try:
            while (group := self._outgoing.get()) is not None:
                left = memoryview(group)
                while left:
                    left = left[os.write(pipe, left):]
        except OSError:
            pass  # the child is gone: the reader fails every group it did not answer
        finally:
            os.close(pipe)

    def _read_answers(self, fd: int) -> None:
        with open(fd, "rb") as pipe:
            while True:
                try:
                    failed, answer = pickle.load(pipe)
                except Exception:  # the child is gone (EOFError), or what it sent cannot be read
                    break
                future = self._unanswered.popleft()
                (future.set_exception if failed else future.set_result)(answer)
        with self._answers_lock:
            self._gone = StoreUnavailable("the process committing this load's batches ended before it answered")
            while self._unanswered:
                self._unanswered.popleft().set_exception(self._gone)


def _child(store: LoadStore, parent: int, parents_ends: tuple[int, int], from_parent: int, to_parent: int) -> None:
    """The child's whole life, from the fork on: commit each group in turn, answer (False, summaries) or
    (True, error), and exit. Never returns, whatever happens: the parent's stack must not run here."""
    code = 1
    try:
        for number in _STOPPING:  # what the default does: a transaction under way is rolled back
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
        _die_with(parent)
        for fd in parents_ends:
            os.close(fd)
        _serve(store, from_parent, to_parent)
        code = 0
    except BrokenPipeError:
        log.info("the loading process is gone: its commit process stops")
    except BaseException:
        log.exception("the process committing a load's batches stopped")
    finally:
        os._exit(code)  # never the parent's exit handlers, nor its buffers flushed twice


def _die_with(parent: int) -> None:
    """On Linux: killed as the loading process ends, however it ends."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it ended before the request was made
            os._exit(1)


def _serve(store: LoadStore, from_parent: int, to_parent: int) -> None:
    with os.fdopen(from_parent, "rb") as groups, os.fdopen(to_parent, "wb") as answers:
        while True:
            try:
                writes = pickle.load(groups)
            except EOFError:
                return
            try:
                answer = (False, store.commit_batches(writes))
            except Exception as error:
                # The loading process gets the error, not its traceback (pickling drops it): it is logged here.
                log.warning("a group of batches failed in the commit process", exc_info=True)
                answer = (True, _sendable(error))
            answers.write(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))
            answers.flush()


def _sendable(error: Exception) -> Exception:
    """The error as it can cross the pipe: itself when it pickles and comes back whole, else a
    StoreUnavailable that names it (every error a commit raises that core acts on is core's own)."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return StoreUnavailable(f"{type(error).__name__}: {error}")
