"""Batches committed in groups where the store asks for it: each still counted and recorded alone, in order."""
from __future__ import annotations

import threading
import time

import pytest

from core.errors import StoreUnavailable
from domain.tables import Table
from tests.unit.fakes import FakeLoadStore, load_departments


def test_groups_of_the_stores_size_land_in_order_with_progress_per_group():
    store = FakeLoadStore(batches_per_commit=3)
    summary, progress = load_departments(store, "t1")
    assert store.commit_groups == [[1, 2, 3], [4, 5, 6], [7]]
    assert summary.batches == 7
    assert progress == [3, 6, 7]
    assert summary.totals()["inserted"] == 7


def test_a_load_is_made_durable_once_after_its_last_group_has_landed():
    store = _SlowStore(commits_in_flight=3)
    load_departments(store, "t7")
    assert [sorted(batches) for batches in store.made_durable] == [[1, 2, 3, 4, 5, 6, 7]]


def test_a_failed_load_is_not_said_durable():
    store = _SlowStore(commits_in_flight=3, failing=2)
    with pytest.raises(StoreUnavailable):
        load_departments(store, "t8")
    assert store.made_durable == []


def test_a_rerun_skips_recorded_batches_and_groups_the_rest():
    store = FakeLoadStore(batches_per_commit=3)
    load_departments(store, "t2", rows=2)  # the first two batches of task t2 are recorded
    store.commit_groups.clear()
    summary, progress = load_departments(store, "t2")
    assert store.commit_groups == [[3, 4, 5], [6, 7]]
    assert progress == [1, 2, 5, 7]  # the recorded batches are counted as they were, then the rest
    assert (summary.batches, summary.totals()["inserted"]) == (7, 7)


class _SlowStore(FakeLoadStore):
    """Each commit takes a moment, so that the load has several under way; batch `failing` fails once."""

    def __init__(self, commits_in_flight: int, failing: int | None = None) -> None:
        super().__init__(commits_in_flight=commits_in_flight)
        self.failing = failing
        self.under_way = self.most_under_way = 0
        self._lock = threading.Lock()

    def commit_batches(self, writes):
        with self._lock:
            self.under_way += 1
            self.most_under_way = max(self.most_under_way, self.under_way)
        try:
            time.sleep(0.02)
            if self.failing in [w.batch for w in writes]:
                self.failing = None
                raise StoreUnavailable("the database went away (as told)")
            with self._lock:  # the fake itself is not thread-safe; the overlap above is what counts
                return super().commit_batches(writes)
        finally:
            with self._lock:
                self.under_way -= 1


def test_commits_in_flight_overlap_up_to_the_stores_limit_and_land_in_order():
    store = _SlowStore(commits_in_flight=3)
    summary, progress = load_departments(store, "t3")
    assert store.most_under_way == 3
    assert progress == [1, 2, 3, 4, 5, 6, 7]  # results taken in order, whichever commit ends first
    assert [row[0] for row in store.rows(Table.DEPARTMENTS)] == [1, 2, 3, 4, 5, 6, 7]


def test_a_failure_with_commits_in_flight_lets_them_land_and_a_rerun_fills_the_gap():
    store = _SlowStore(commits_in_flight=3, failing=2)
    with pytest.raises(StoreUnavailable):
        load_departments(store, "t4")
    recorded = sorted(store.recorded_batches("t4", Table.DEPARTMENTS))
    assert recorded[0] == 1 and 2 not in recorded and {3, 4} <= set(recorded)  # those sent with batch 2 landed
    store.commit_groups.clear()
    summary, _ = load_departments(store, "t4")
    assert sorted(store.commit_groups) == [[n] for n in range(2, 8) if n not in recorded]
    assert (summary.batches, summary.totals()["inserted"]) == (7, 7)
    assert [b.batch for b in store.landed("t4", Table.DEPARTMENTS)] == [1, 2, 3, 4, 5, 6, 7]
    assert [row[0] for row in store.rows(Table.DEPARTMENTS)] == [1, 2, 3, 4, 5, 6, 7]


class _ThreadNoting(FakeLoadStore):
    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.threads: set[str] = set()

    def commit_batches(self, writes):
        self.threads.add(threading.current_thread().name)
        return super().commit_batches(writes)


def test_a_store_that_wants_no_commit_in_flight_commits_each_group_in_turn_in_the_loading_thread():
    store = _ThreadNoting(batches_per_commit=3, commits_in_flight=0)
    summary, progress = load_departments(store, "t5")
    assert store.threads == {threading.current_thread().name}
    assert store.commit_groups == [[1, 2, 3], [4, 5, 6], [7]] and progress == [3, 6, 7]
    assert (summary.batches, summary.totals()["inserted"]) == (7, 7)


def test_a_failure_in_turn_stops_the_load_and_a_rerun_fills_the_rest():
    store = _ThreadNoting(fail_on_commit=2, commits_in_flight=0)
    with pytest.raises(StoreUnavailable):
        load_departments(store, "t6")
    assert sorted(store.recorded_batches("t6", Table.DEPARTMENTS)) == [1]
    summary, _ = load_departments(store, "t6")
    assert [b.batch for b in store.landed("t6", Table.DEPARTMENTS)] == [1, 2, 3, 4, 5, 6, 7]
