"""Commit overlap: batches committed on threads of their own, or by a process of their own, while the next
ones are validated."""
from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from core.commit_process import CommitProcess
from core.forks import CAN_FORK, may_fork, threads_in_the_way
from core.ports import BatchWrite, LoadStore
from core.summary import BatchSummary

log = logging.getLogger(__name__)


class OrderedCommits:
    """Commits batches on threads of their own (or by a process of their own) while the next ones are
    validated, so the database's time and Python's overlap. Batches go in groups of the store's
    batches_per_commit, up to the store's commits_in_flight groups at once, each on its own connection;
    results are taken in order. A store that wants none in flight is committed in turn, in the loading
    thread.

    A store whose writes need an interpreter of their own (commits_in_a_process: SQLite, which runs in this
    process) has its groups committed by a forked child (core.commit_process), forked as the load starts,
    while this process holds the least. Where this system cannot fork, or this process runs threads that are
    not fork-safe (core.forks), they are committed in turn.

    The load has landed when every group has and the store has made them durable (a store may flush a
    load's commits to disk once, at its end). A failure stops the load: the groups already sent still
    finish (each lands whole or not at all), and a re-run skips every batch recorded and commits the
    rest, gaps included."""

    def __init__(self, store: LoadStore, landed: Callable[[list[BatchSummary], int], None]) -> None:
        self._store = store
        self._landed = landed
        self._pending: list[BatchWrite] = []
        self._in_flight: deque[tuple[Future[list[BatchSummary]], int]] = deque()
        self._limit = store.commits_in_flight
        # A store whose writes need the interpreter all along (SQLite gives it up and takes it back for each
        # row) gets a process, not threads: a thread of their own would only take turns with validation.
        self._in_a_process = bool(self._limit) and store.commits_in_a_process
        self._threads = (ThreadPoolExecutor(max_workers=self._limit, thread_name_prefix="commit")
                         if self._limit and not self._in_a_process else None)
        self._process: CommitProcess | None = None

    def add(self, write: BatchWrite) -> None:
        self._pending.append(write)
        if len(self._pending) >= self._store.batches_per_commit:
            self._send()

    def add_recorded(self, recorded: BatchSummary) -> None:
        self._send()
        self._settle_all()
        self._landed([recorded], recorded.processed)

    def _send(self) -> None:
        if not self._pending:
            return
        writes, self._pending = self._pending, []
        rows = sum(w.processed for w in writes)
        if self._threads is None and self._process is None:
            self._landed(self._store.commit_batches(writes), rows)
            return
        if any(future.done() and future.exception() for future, _ in self._in_flight):
            self._settle_all()  # raises at the first failed group, in order: nothing more is sent
        if len(self._in_flight) >= self._limit:
            self._settle_oldest()
        self._in_flight.append((self._submit(writes), rows))

    def _submit(self, writes: list[BatchWrite]) -> Future[list[BatchSummary]]:
        if self._process is not None:
            return self._process.submit(writes)
        return self._threads.submit(self._store.commit_batches, writes)

    def _settle_oldest(self) -> None:
        future, rows = self._in_flight.popleft()
        self._landed(future.result(), rows)

    def _settle_all(self) -> None:
        while self._in_flight:
            self._settle_oldest()

    def __enter__(self) -> OrderedCommits:
        if self._in_a_process and may_fork():
            try:
                self._process = CommitProcess(self._store)
            except OSError as error:  # no process to be had now (memory, a process limit): in turn, then
                log.warning("the load commits its batches in turn: could not fork a commit process (%s)", error)
        elif self._in_a_process and CAN_FORK:
            log.info("the load commits its batches in turn: threads that are not fork-safe run beside it (%s)",
                     ", ".join(threads_in_the_way()))
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self._send()
                self._settle_all()
                self._store.make_durable()
        finally:
            if self._threads is not None:
                self._threads.shutdown(wait=True)
            if self._process is not None:
                self._process.close()
            for future, _ in self._in_flight:  # groups still under way when the load stopped
                if future.exception() is not None:
                    log.warning("a batch group in flight failed too", exc_info=future.exception())
