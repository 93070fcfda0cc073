"""A database that fails mid-load: the task is retried and finishes without writing any batch twice."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.errors import StoreUnavailable
from core.ingestion import Ingestion
from core.tasks import RetryLater, Tasks, TaskState
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeDispatcher, FakeLoadStore, FakeTaskRegistry

DEPARTMENTS = b"1,Sales\n2,Legal\n3,\n4,Services\n5,Support\n"


def tasks_over(store: FakeLoadStore, registry: FakeTaskRegistry) -> Tasks:
    ingestion = Ingestion(store, FakeBlobStore({"departments.csv": DEPARTMENTS}), batch_size=2,
                          clock=lambda: datetime(2024, 5, 1))

    def load(task_id, on_progress, table):
        return ingestion.load_blob(Table(table), task_id, on_progress=on_progress).as_dict()

    return Tasks(registry, FakeDispatcher(), {"load": load}, lambda: datetime(2024, 5, 1), lambda: "task-1")


def test_unavailable_store_asks_for_a_retry_and_the_retry_finishes_the_load():
    store, registry = FakeLoadStore(fail_on_commit=2), FakeTaskRegistry()
    tasks = tasks_over(store, registry)
    task_id = tasks.submit("load", {"table": "departments"})
    with pytest.raises(RetryLater):
        tasks.run(task_id, "load", {"table": "departments"}, attempt=1, attempts=3)
    record = tasks.status(task_id)
    assert record.state is TaskState.RETRY and record.error.startswith("attempt 1 of 3: ")

    result = tasks.run(task_id, "load", {"table": "departments"}, attempt=2, attempts=3)
    assert tasks.status(task_id).state is TaskState.SUCCESS
    assert result["total"] == {"processed": 5, "inserted": 4, "already_exists": 0, "errors": 1}
    assert store.error_ids(task_id, Table.DEPARTMENTS) == [3]
    assert [call[2] for call in store.commit_calls] == [1, 2, 2, 3]  # batch 1 written once


def test_unavailable_store_on_the_last_attempt_fails_the_task():
    store, registry = FakeLoadStore(fail_on_commit=1), FakeTaskRegistry()
    tasks = tasks_over(store, registry)
    task_id = tasks.submit("load", {"table": "departments"})
    with pytest.raises(StoreUnavailable):
        tasks.run(task_id, "load", {"table": "departments"}, attempt=3, attempts=3)
    record = tasks.status(task_id)
    assert record.state is TaskState.FAILURE and record.error.startswith("gave up after 3 attempts: ")
    assert store.rows(Table.DEPARTMENTS) == []
