"""Fixtures of the unit tier: the use cases wired to in-memory fakes, with a clock that stands still."""
from __future__ import annotations

import io
from datetime import datetime

import pytest

from core.chunked_load import ChunkedLoads
from core.ingestion import Ingestion
from core.loads import Loads
from core.summary import LoadSummary
from domain.entities import Department, Job
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeDispatcher, FakeLoadStore, FakeTaskRegistry

NOW = datetime(2024, 5, 1, 12, 0, 0)


@pytest.fixture
def clock():
    return lambda: NOW


@pytest.fixture
def registry() -> FakeTaskRegistry:
    return FakeTaskRegistry()


@pytest.fixture
def dispatcher() -> FakeDispatcher:
    return FakeDispatcher()


@pytest.fixture
def store() -> FakeLoadStore:
    return FakeLoadStore()


@pytest.fixture
def blobs() -> FakeBlobStore:
    return FakeBlobStore()


@pytest.fixture
def ingestion(store, blobs, clock) -> Ingestion:
    return Ingestion(store, blobs, batch_size=1000, clock=clock)


@pytest.fixture
def loads(ingestion, store, blobs) -> Loads:
    """The load task's one entry, with no fan-out: every load runs in its task."""
    return Loads(ingestion, ChunkedLoads(ingestion, store, blobs, 1_000_000))


@pytest.fixture
def load(store, blobs, clock):
    """load(table, text) streams the text (str or bytes) into the fake store and returns the summary."""

    def _load(table: Table, text: str | bytes, *, batch_size: int = 1000, task_id: str = "task-1",
              **options) -> LoadSummary:
        data = text.encode("utf-8") if isinstance(text, str) else text
        ingestion = Ingestion(store, blobs, batch_size=batch_size, clock=clock)
        return ingestion.load_stream(table, io.BytesIO(data), source=f"{table.value}.csv", task_id=task_id,
                                     **options)

    return _load


@pytest.fixture
def parents(store) -> FakeLoadStore:
    """Departments 1-3 and jobs 1-3 already in the database, for employee rows to point at."""
    store.add(Table.DEPARTMENTS, *(Department(i, f"Department {i}") for i in (1, 2, 3)))
    store.add(Table.JOBS, *(Job(i, f"Job {i}") for i in (1, 2, 3)))
    return store
