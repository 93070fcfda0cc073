"""The load summary keeps the original service's response shape, per batch and in total."""
from __future__ import annotations

from core.summary import BatchSummary, LoadSummary


def test_empty_load_has_zero_totals():
    assert LoadSummary("jobs", "jobs.csv", "t1").as_dict() == {
        "table": "jobs", "source": "jobs.csv", "task_id": "t1", "header_skipped": False, "batches": [],
        "total": {"processed": 0, "inserted": 0, "already_exists": 0, "errors": 0, "error_ids": []}}


def test_as_dict_lists_each_batch_and_sums_them():
    summary = LoadSummary("hired_employees", "hired_employees.csv", "t1", header_skipped=True, batches=[
        BatchSummary(1, 1000, 990, 5, 5, (3, 4, 9, 10, 11)),
        BatchSummary(2, 20, 18, 0, 2, (1200,)),
    ])
    assert summary.as_dict() == {
        "table": "hired_employees", "source": "hired_employees.csv", "task_id": "t1", "header_skipped": True,
        "batches": [
            {"batch": 1, "processed": 1000, "inserted": 990, "already_exists": 5, "errors": 5,
             "error_ids": [3, 4, 9, 10, 11]},
            {"batch": 2, "processed": 20, "inserted": 18, "already_exists": 0, "errors": 2, "error_ids": [1200]},
        ],
        "total": {"processed": 1020, "inserted": 1008, "already_exists": 5, "errors": 7,
                  "error_ids": [3, 4, 9, 10, 11, 1200]},
    }


def test_batch_error_ids_come_out_as_a_list():
    assert BatchSummary(1, 2, 0, 0, 2, (5, 5)).as_dict()["error_ids"] == [5, 5]
