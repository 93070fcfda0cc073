"""POST /batch on the fakes: 1 to 1000 rows as JSON objects or CSV, inserted at once, every rejection told."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.batch_insert import BatchInsert
from core.errors import InvalidRequest
from domain.entities import Department, Employee
from domain.tables import Table

D, E = Table.DEPARTMENTS, Table.HIRED_EMPLOYEES


@pytest.fixture
def batch(store, clock) -> BatchInsert:
    return BatchInsert(store, clock, lambda: "req-1", max_rows=3)


def test_json_objects_are_inserted_and_rejections_told_with_their_index(batch, parents):
    result = batch.insert_objects(E, [
        {"id": 1, "name": "Ana", "datetime": "2021-07-27T16:02:08Z", "department_id": 1, "job_id": 2},
        {"id": 2, "name": "Bea", "datetime": "2021-02-30", "department_id": 9, "job_id": 1},
        "not an object",
    ])
    assert parents.rows(E) == [Employee(1, "Ana", datetime(2021, 7, 27, 16, 2, 8), 1, 2)]
    assert {k: result[k] for k in ("table", "request_id", "processed", "inserted", "already_exists", "errors",
                                   "error_ids")} == {
        "table": "hired_employees", "request_id": "req-1", "processed": 3, "inserted": 1, "already_exists": 0,
        "errors": 2, "error_ids": [2]}
    assert [(r["index"], r["line"], r["id"], r["reasons"]) for r in result["rejected"]] == [
        (1, 2, 2, ["datetime '2021-02-30' is not a valid ISO 8601 datetime", "department_id 9 does not exist"]),
        (2, 3, None, ["row must be a JSON object with the fields id, name, datetime, department_id, job_id"])]
    assert all(r.source == "request" and r.task_id == "req-1" for r in parents.rejections)


def test_json_object_with_unknown_or_missing_fields_is_rejected(batch, store):
    result = batch.insert_objects(D, [{"id": 1, "department": "Sales", "floor": 3}, {"id": 2}])
    assert [r["reasons"] for r in result["rejected"]] == [["unknown fields: floor"], ["department is missing"]]
    assert store.rows(D) == []


def test_json_numbers_are_read_as_their_text(batch, store):
    result = batch.insert_objects(D, [{"id": 7.0, "department": "Sales"}, {"id": 8, "department": 42}])
    assert [r["reasons"] for r in result["rejected"]] == [["id '7.0' is not a positive integer"]]
    assert store.rows(D) == [Department(8, "42")]


def test_json_objects_arrays_and_booleans_are_not_text(batch, store):
    items = [{"id": 1, "department": {"a": [1]}}, {"id": 2, "department": True}, {"id": [3], "department": "x"}]
    result = batch.insert_objects(D, items)
    assert [r["reasons"] for r in result["rejected"]] == [
        ["fields must be strings or numbers, not objects, arrays or booleans: department"],
        ["fields must be strings or numbers, not objects, arrays or booleans: department"],
        ["fields must be strings or numbers, not objects, arrays or booleans: id"],
    ]
    assert store.rows(D) == []


@pytest.mark.parametrize("items", [[], [{}] * 4])
def test_json_batch_must_hold_1_to_max_rows(batch, items):
    with pytest.raises(InvalidRequest, match="a batch holds 1 to 3 rows"):
        batch.insert_objects(D, items)


def test_json_body_must_be_an_array(batch):
    with pytest.raises(InvalidRequest, match="JSON array"):
        batch.insert_objects(D, {"id": 1})


def test_csv_body_with_header_is_inserted(batch, store):
    result = batch.insert_csv(D, b"id,department\r\n1,Sales\n\n1,Again\n")
    assert store.rows(D) == [Department(1, "Sales")]
    assert (result["inserted"], result["errors"], result["rejected"][0]["line"]) == (1, 1, 4)


@pytest.mark.parametrize("body", [b"id,department\n", b"1,A\n2,B\n3,C\n4,D\n"])
def test_csv_batch_must_hold_1_to_max_rows(batch, body):
    with pytest.raises(InvalidRequest, match="a batch holds 1 to 3 rows"):
        batch.insert_csv(D, body)


def test_rows_already_there_are_counted_not_changed(batch, store):
    store.add(D, Department(1, "Sales"))
    result = batch.insert_objects(D, [{"id": 1, "department": "Renamed"}])
    assert (result["inserted"], result["already_exists"]) == (0, 1)
    assert store.rows(D) == [Department(1, "Sales")]
