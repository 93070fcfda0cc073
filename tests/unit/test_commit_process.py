"""Groups committed by a forked process (core.commit_process), for a store whose writes need an interpreter of
their own: in order, each answered once, and every way the child can fail reaches the load as an error."""
from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

from core.errors import StoreUnavailable
from core.forks import CAN_FORK, fork_safe_thread, may_fork
from core.ingestion import Ingestion
from core.leases import Heartbeat
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeLoadStore, load_departments

pytestmark = pytest.mark.skipif(not CAN_FORK, reason="this system cannot fork: groups are committed in turn")


class _NotingStore(FakeLoadStore):
    """Commits as the fake does, in whichever process runs it, and notes each group (the process and its
    batches) in a file both processes see."""

    def __init__(self, notes: Path, **options) -> None:
        super().__init__(batches_per_commit=2, commits_in_flight=2, commits_in_a_process=True, **options)
        self.notes = notes

    def commit_batches(self, writes):
        summaries = super().commit_batches(writes)
        with self.notes.open("a") as notes:
            notes.write(f"{os.getpid()} {' '.join(str(w.batch) for w in writes)}\n")
        return summaries

    def groups(self) -> list[tuple[int, list[int]]]:
        lines = self.notes.read_text().splitlines() if self.notes.exists() else []
        return [(int(pid), [int(n) for n in rest]) for pid, *rest in map(str.split, lines)]


def test_every_group_is_committed_by_one_child_in_order_and_lands_here_in_order(tmp_path):
    store = _NotingStore(tmp_path / "notes")
    summary, progress = load_departments(store, "p1")
    groups = store.groups()
    assert [batches for _, batches in groups] == [[1, 2], [3, 4], [5, 6], [7]]
    assert len({pid for pid, _ in groups}) == 1 and groups[0][0] != os.getpid()
    assert progress == [2, 4, 6, 7]
    assert (summary.batches, summary.totals()["inserted"]) == (7, 7)
    assert store.rows(Table.DEPARTMENTS) == []  # committed by the child's copy of the store, not this one
    assert [sorted(batches) for batches in store.made_durable] == [[]]  # made durable here, once, at the end


def test_lines_are_not_kept_for_a_store_that_never_writes_from_them(tmp_path):
    class Lineless(_NotingStore):
        def __init__(self, notes: Path) -> None:
            super().__init__(notes)
            self.writes_from_lines = False

        def commit_batches(self, writes):
            assert all(w.lines == () for w in writes)
            return super().commit_batches(writes)

    store = Lineless(tmp_path / "notes")
    assert load_departments(store, "p2")[0].totals()["inserted"] == 7
    assert len(store.groups()) == 4


def test_a_group_that_fails_in_the_child_fails_the_load_and_the_groups_before_it_landed(tmp_path):
    store = _NotingStore(tmp_path / "notes", fail_on_commit=3)  # the child's third batch: the second group
    landed: list[int] = []
    with pytest.raises(StoreUnavailable, match="commit 3 failed"):
        Ingestion(store, FakeBlobStore(), batch_size=1).load_stream(
            Table.DEPARTMENTS, io.BytesIO(b"".join(b"%d,D\n" % i for i in range(1, 8))), source="d.csv",
            task_id="p3", on_progress=lambda p: landed.append(p.rows_done))
    assert landed == [2]
    assert [batches for _, batches in store.groups()][:1] == [[1, 2]]
    assert store.made_durable == []


class _DyingStore(_NotingStore):
    def __init__(self, notes: Path) -> None:
        super().__init__(notes)
        self.loader = os.getpid()

    def commit_batches(self, writes):
        if writes[0].batch == 3:
            assert os.getpid() != self.loader, "committed in the test's own process: it would end it"
            os._exit(9)  # the process is gone mid-group, as if killed
        return super().commit_batches(writes)


def test_a_child_that_dies_fails_the_load_as_an_unavailable_store_instead_of_hanging(tmp_path):
    store = _DyingStore(tmp_path / "notes")
    with pytest.raises(StoreUnavailable, match="ended before it answered"):
        load_departments(store, "p4")
    assert [batches for _, batches in store.groups()] == [[1, 2]]


class _Unpicklable(Exception):
    def __init__(self, first, second) -> None:  # pickle calls it back with one argument: it cannot
        super().__init__(f"{first} {second}")


class _OddErrorStore(_NotingStore):
    def commit_batches(self, writes):
        raise _Unpicklable("a driver's", "own error")


def test_an_error_that_cannot_cross_the_pipe_comes_back_named_as_an_unavailable_store(tmp_path):
    with pytest.raises(StoreUnavailable, match="_Unpicklable: a driver's own error"):
        load_departments(_OddErrorStore(tmp_path / "notes"), "p5")


def test_only_threads_that_said_they_are_fork_safe_let_a_load_fork():
    started, stop = threading.Event(), threading.Event()

    def waiting(safe: bool) -> None:
        if safe:
            with fork_safe_thread():
                started.set()
                stop.wait()
        else:
            started.set()
            stop.wait()

    assert may_fork()
    for safe in (True, False):
        started.clear()
        stop.clear()
        thread = threading.Thread(target=waiting, args=(safe,))
        thread.start()
        started.wait()
        try:
            assert may_fork() is safe
        finally:
            stop.set()
            thread.join()


def test_a_load_beside_a_lease_heartbeat_still_forks_its_commit_process(tmp_path):
    store = _NotingStore(tmp_path / "notes")
    with Heartbeat(lambda: True, every=0.001):
        load_departments(store, "p6")
    assert len({pid for pid, _ in store.groups()} - {os.getpid()}) == 1
