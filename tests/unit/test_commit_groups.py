"""Batches committed in groups where the store asks for it: each still counted and recorded alone, in order."""
from __future__ import annotations

import io
from datetime import datetime

from core.ingestion import Ingestion
from core.summary import LoadSummary
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeLoadStore


def _load(store: FakeLoadStore, task_id: str, rows: int = 7) -> tuple[LoadSummary, list[int]]:
    body = "".join(f"{i},Department {i}\n" for i in range(1, rows + 1)).encode()
    seen: list[int] = []
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=1, clock=lambda: datetime(2021, 1, 1))
    summary = ingestion.load_stream(Table.DEPARTMENTS, io.BytesIO(body), source="d.csv", task_id=task_id,
                                    on_progress=lambda p: seen.append(p.rows_done))
    return summary, seen


def test_groups_of_the_stores_size_land_in_order_with_progress_per_group():
    store = FakeLoadStore(batches_per_commit=3)
    summary, progress = _load(store, "t1")
    assert store.commit_groups == [[1, 2, 3], [4, 5, 6], [7]]
    assert [b.batch for b in summary.batches] == [1, 2, 3, 4, 5, 6, 7]
    assert progress == [3, 6, 7]
    assert summary.totals()["inserted"] == 7


def test_a_rerun_skips_recorded_batches_and_groups_the_rest():
    store = FakeLoadStore(batches_per_commit=3)
    _load(store, "t2", rows=2)  # the first two batches of task t2 are recorded
    store.commit_groups.clear()
    summary, progress = _load(store, "t2")
    assert store.commit_groups == [[3, 4, 5], [6, 7]]
    assert [b.batch for b in summary.batches] == [1, 2, 3, 4, 5, 6, 7]
    assert progress == [1, 2, 5, 7]
    assert [b.inserted for b in summary.batches] == [1] * 7
