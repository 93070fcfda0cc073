"""A load's summary holds totals only, the same size for any file; each batch's figures are the store's."""
from __future__ import annotations

from core.summary import BatchSummary, LoadSummary


def test_empty_load_has_zero_totals():
    assert LoadSummary("jobs", "jobs.csv", "t1").as_dict() == {
        "table": "jobs", "source": "jobs.csv", "task_id": "t1", "header_skipped": False,
        "total": {"processed": 0, "inserted": 0, "already_exists": 0, "errors": 0}}


def test_batches_added_are_summed_and_not_kept():
    summary = LoadSummary("hired_employees", "hired_employees.csv", "t1", header_skipped=True)
    summary.add(BatchSummary(1, 1000, 990, 5, 5, (3, 4, 9, 10, 11)))
    summary.add(BatchSummary(2, 20, 18, 0, 2, (1200,)))
    assert summary.as_dict() == {
        "table": "hired_employees", "source": "hired_employees.csv", "task_id": "t1", "header_skipped": True,
        "total": {"processed": 1020, "inserted": 1008, "already_exists": 5, "errors": 7},
    }
    assert summary.batches == 2


def test_a_part_of_the_same_file_adds_its_totals():
    summary = LoadSummary("jobs", "jobs.csv", "t1")
    summary.add_totals({"processed": 3, "inserted": 1, "already_exists": 1, "errors": 1})
    summary.add_totals({"processed": 2, "inserted": 2, "already_exists": 0, "errors": 0})
    assert summary.totals() == {"processed": 5, "inserted": 3, "already_exists": 1, "errors": 1}


def test_batch_error_ids_come_out_as_a_list():
    assert BatchSummary(1, 2, 0, 0, 2, (5, 5)).as_dict()["error_ids"] == [5, 5]
