"""The `load` task's one entry (core.loads): primitive arguments in, plain data out, one progress bar for a
full load."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import utc_now
from core.errors import NotFound
from domain.errors import UnknownTable
from domain.tables import Table

FILES = {"departments.csv": b"1,Sales\n", "jobs.csv": b"id,job\n1,Nurse\n2,Teacher\n",
         "hired_employees.csv": b"1,Ana,2021-07-27T16:02:08Z,1,2\n2,Bea,2021-07-27T16:02:08Z,5,2\n"}


def test_run_of_one_table_returns_its_summary_as_data(loads, blobs):
    blobs.blobs.update(FILES)
    result = loads.run("task-1", table="jobs")
    assert result["table"] == "jobs" and result["header_skipped"] is True
    assert result["total"] == {"processed": 2, "inserted": 2, "already_exists": 0, "errors": 0}


def test_run_takes_the_api_spelling_a_named_blob_and_a_slice(loads, blobs, store):
    blobs.blobs["uploads/x.csv"] = b"1,A\n2,B\n3,C\n"
    result = loads.run("task-1", table="departments", blob="uploads/x.csv", start=1, limit=1)
    assert result["source"] == "uploads/x.csv" and result["total"]["inserted"] == 1
    assert [d.id for d in store.rows(Table.DEPARTMENTS)] == [2]


def test_run_of_all_gives_each_table_and_a_grand_total(loads, blobs, store):
    blobs.blobs.update(FILES)
    result = loads.run("task-1", table="all")
    assert [t["table"] for t in result["tables"]] == ["departments", "jobs", "hired_employees"]
    assert result["total"] == {"processed": 5, "inserted": 4, "already_exists": 0, "errors": 1}
    assert result["tables"][2]["total"]["errors"] == 1 and store.error_ids("task-1", Table.HIRED_EMPLOYEES) == [2]


def test_progress_of_a_full_load_counts_over_the_three_files(ingestion, blobs):
    blobs.blobs.update(FILES)
    seen = []
    ingestion.load_all("task-1", on_progress=seen.append)
    total = sum(len(data) for data in FILES.values())
    assert [(p.table, p.rows_done) for p in seen] == [("departments", 1), ("jobs", 3), ("hired_employees", 5)]
    assert all(p.bytes_total == total for p in seen) and seen[-1].bytes_done == total


def test_run_of_an_unknown_table_or_missing_file_is_refused(loads):
    with pytest.raises(UnknownTable):
        loads.run("task-1", table="employees")
    with pytest.raises(NotFound):
        loads.run("task-1", table="jobs")



def test_default_clock_is_naive_utc_now():
    moment = utc_now()
    assert moment.tzinfo is None
    assert abs(datetime.now(UTC).replace(tzinfo=None) - moment) < timedelta(seconds=5)
