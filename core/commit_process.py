"""Commits in a process of their own: for a store whose writes need an interpreter all along (SQLite runs in
the loading process), a forked child commits the groups of batches while this process checks the next ones.

The child inherits the store as it was at the fork and commits each group it is sent, in order, each in
one transaction as the store's commit_batches does. This side pickles each group and hands it to a thread
that only writes it to a pipe; another thread only reads the answers. Both wait on the pipe with the
interpreter released, so neither takes turns with the validation (the work that needs it).

Nothing lands twice or is lost when either side dies. The child commits a group whole or not at all; a
child that finds its pipe closed (this process ended, or was killed) commits what it was already sent and
exits, and a re-run finds those batches recorded. A child that dies fails every group not yet answered as
StoreUnavailable, so the load is tried again like one that lost its database."""
from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import queue
import signal
import threading
from collections import deque
from concurrent.futures import Future
from typing import Sequence

from core.errors import StoreUnavailable
from core.ports import BatchWrite, LoadStore
from core.summary import BatchSummary

log = logging.getLogger(__name__)

CAN_FORK = hasattr(os, "fork")


def may_fork() -> bool:
    """Whether a load may fork its commit process now: only from a process with one thread. A lock another
    thread holds at the fork stays held in the child for good (loads side by side in threads hung so in a
    test): those loads commit in turn."""
    return CAN_FORK and threading.active_count() == 1

# This process's ends of the pipes of every commit process alive. A child forked for one load (loads may run
# side by side in threads) closes its copies of the others': an inherited write end would keep another
# child from ever reading the end of its input. Taken around each fork and each close, so that the fds a
# child closes are exactly those open at its fork.
_PARENT_ENDS: set[int] = set()
_PARENT_ENDS_LOCK = threading.Lock()


def _close_parent_end(fd: int) -> None:
    with _PARENT_ENDS_LOCK:
        _PARENT_ENDS.discard(fd)
        os.close(fd)


class CommitProcess:
    """A forked child that commits the groups it is sent through the store, in order; each submit returns a
    Future of that group's summaries. close() lets the child commit what it was sent, then waits for it."""

    def __init__(self, store: LoadStore) -> None:
        with _PARENT_ENDS_LOCK:
            from_parent, to_child = os.pipe()
            from_child, to_parent = os.pipe()
            self._pid = os.fork()
            if self._pid == 0:  # the child: never returns
                for fd in (*_PARENT_ENDS, to_child, from_child):
                    os.close(fd)
                _serve_and_exit(store, from_parent, to_parent)
            os.close(from_parent)
            os.close(to_parent)
            _PARENT_ENDS.update((to_child, from_child))
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
        future: Future[list[BatchSummary]] = Future()
        with self._answers_lock:
            if self._gone is not None:
                future.set_exception(self._gone)
                return future
            self._unanswered.append(future)
        # Each row as a plain tuple: unpickling rebuilds a named tuple through a Python call, a tuple in C, and
        # the child's side is the busier one. The writers read rows by position.
        plain = [dataclasses.replace(write, rows=list(map(tuple, write.rows))) for write in writes]
        self._outgoing.put(pickle.dumps(plain, pickle.HIGHEST_PROTOCOL))
        return future

    def close(self) -> None:
        """The child commits every group already sent, then exits; returns once it has."""
        self._outgoing.put(None)
        self._writer.join()
        self._reader.join()
        os.waitpid(self._pid, 0)

    def _write_groups(self, pipe: int) -> None:
        try:
            while (group := self._outgoing.get()) is not None:
                left = memoryview(group)
                while left:
                    left = left[os.write(pipe, left):]
        except OSError:
            pass  # the child is gone: the reader fails every group it did not answer
        finally:
            _close_parent_end(pipe)

    def _read_answers(self, fd: int) -> None:
        with open(fd, "rb", closefd=False) as pipe:
            while True:
                try:
                    failed, answer = pickle.load(pipe)
                except Exception:  # the child is gone (EOFError), or what it sent cannot be read
                    break
                future = self._unanswered.popleft()
                (future.set_exception if failed else future.set_result)(answer)
        _close_parent_end(fd)
        with self._answers_lock:
            self._gone = StoreUnavailable("the process committing this load's batches ended before it answered")
            while self._unanswered:
                self._unanswered.popleft().set_exception(self._gone)


def _serve_and_exit(store: LoadStore, from_parent: int, to_parent: int) -> None:
    """The child's whole life: commit each group in turn and answer (False, summaries) or (True, error)."""
    code = 1
    try:
        # Signals the loading process handles its own way (a worker's shutdown, Ctrl-C) end this one as
        # the default does: a transaction under way is rolled back by the database.
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        with os.fdopen(from_parent, "rb") as groups, os.fdopen(to_parent, "wb") as answers:
            while True:
                try:
                    writes = pickle.load(groups)
                except EOFError:
                    break
                try:
                    answer = (False, store.commit_batches(writes))
                except Exception as error:
                    answer = (True, _sendable(error))
                answers.write(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))
                answers.flush()
        code = 0
    except BaseException:  # the parent is gone, or this process was told to stop
        log.exception("the process committing a load's batches stopped")
    finally:
        os._exit(code)  # never the parent's exit handlers, nor its buffers flushed twice


def _sendable(error: Exception) -> Exception:
    """The error as it can cross the pipe: itself when it pickles and comes back whole, else a
    StoreUnavailable that names it (every error a commit raises that core acts on is core's own)."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return StoreUnavailable(f"{type(error).__name__}: {error}")
