"""A row that repeats a taken id and breaks another rule is told both reasons."""
from __future__ import annotations

import io
from datetime import datetime

from core.ingestion import Ingestion
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeLoadStore


def _reasons(table: Table, body: bytes, store: FakeLoadStore) -> dict[int, tuple[str, ...]]:
    ingestion = Ingestion(store, FakeBlobStore(), clock=lambda: datetime(2021, 1, 1))
    ingestion.load_stream(table, io.BytesIO(body), source="f.csv", task_id="t")
    return store.reasons_by_line(table)


def test_a_repeated_id_with_a_missing_field_gets_both_reasons():
    reasons = _reasons(Table.DEPARTMENTS, b"1,Sales\n1,\n", FakeLoadStore())
    repeated = "id 1 appears earlier in this input; the first occurrence is taken"
    assert reasons == {2: ("department is missing", repeated)}


def test_a_repeated_id_naming_a_missing_parent_gets_both_reasons():
    store = FakeLoadStore()
    store.add(Table.DEPARTMENTS, (1, "Sales"))
    store.add(Table.JOBS, (1, "Clerk"))
    body = b"7,Ann,2021-01-01T00:00:00Z,1,1\n7,Bob,2021-01-01T00:00:00Z,9,1\n"
    assert _reasons(Table.HIRED_EMPLOYEES, body, store) == {
        2: ("department_id 9 does not exist", "id 7 appears earlier in this input; the first occurrence is taken")}


def test_a_rejected_first_row_takes_no_id():
    assert _reasons(Table.DEPARTMENTS, b"1,\n1,Sales\n", FakeLoadStore()) == {1: ("department is missing",)}
