"""The ingestion use case on the fakes: every data rule and edge of a load, as the user sees it."""
from __future__ import annotations

import io
from datetime import datetime

import pytest

from core.csv_records import CsvRecords, DataBatches
from core.errors import NotFound, StoreUnavailable
from core.ingestion import Ingestion
from core.summary import LoadSummary
from domain.entities import Department, Employee, Job
from domain.tables import Table
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeLoadStore

D, J, E = Table.DEPARTMENTS, Table.JOBS, Table.HIRED_EMPLOYEES
HIRED = "2021-07-27T16:02:08Z"


def totals(summary: LoadSummary) -> tuple[int, int, int, int]:
    t = summary.totals()
    return t["processed"], t["inserted"], t["already_exists"], t["errors"]


# --- header, encoding, line endings, quoting --------------------------------------------------

def test_header_row_is_skipped(load, store):
    summary = load(D, "id,department\n1,Sales\n")
    assert summary.header_skipped
    assert totals(summary) == (1, 1, 0, 0)
    assert store.rows(D) == [Department(1, "Sales")]


def test_file_without_header_loads_its_first_row(load, store):
    summary = load(D, "1,Sales\n2,Legal\n")
    assert not summary.header_skipped
    assert store.rows(D) == [Department(1, "Sales"), Department(2, "Legal")]


@pytest.mark.parametrize("first_id", ["7.0", "-1"])
def test_first_row_with_a_numeric_bad_id_is_a_rejected_data_row_not_a_header(load, store, first_id):
    summary = load(D, f"{first_id},Sales\n2,Legal\n")
    assert not summary.header_skipped
    assert totals(summary) == (2, 1, 0, 1)
    assert store.reasons_by_line(D) == {1: (f"id '{first_id}' is not a positive integer",)}


def test_utf8_bom_before_the_header_is_tolerated(load, store):
    summary = load(D, "\ufeffid,department\n1,Sales\n".encode())
    assert summary.header_skipped and store.rows(D) == [Department(1, "Sales")]


def test_utf8_bom_before_a_data_row_is_not_part_of_its_id(load, store):
    load(D, "\ufeff1,Sales\n".encode())
    assert store.rows(D) == [Department(1, "Sales")] and store.rejections == []


def test_crlf_line_endings_leave_no_carriage_return_in_the_rows(load, parents):
    summary = load(E, f"id,name,datetime,department_id,job_id\r\n1,Ana Almeida,{HIRED},1,2\r\n")
    assert summary.header_skipped and parents.rejections == []
    assert parents.rows(E) == [Employee(1, "Ana Almeida", datetime(2021, 7, 27, 16, 2, 8), 1, 2)]


def test_quoted_commas_and_doubled_quotes_are_kept_in_the_value(load, store):
    load(J, '1,"Engineer, ""Senior"" grade"\n')
    assert store.rows(J) == [Job(1, 'Engineer, "Senior" grade')]


def test_quoted_field_spanning_two_lines_is_logged_with_its_first_line_and_whole_text(load, parents):
    text = (f"1,Ana,{HIRED},1,1\n"
            '2,"Bea\nBrennan",2021-02-30T00:00:00Z,1,1\n'
            "3,Chen,not a date,1,1\n")
    load(E, text)
    by_line = {r.line_number: r for r in parents.rejections}
    assert sorted(by_line) == [2, 4]
    assert by_line[2].raw == '2,"Bea\\x0aBrennan",2021-02-30T00:00:00Z,1,1'  # escaped for the log
    assert by_line[4].raw == "3,Chen,not a date,1,1"


def test_strings_and_numbers_are_trimmed(load, parents):
    load(E, f"  1 ,  Ana Almeida  , {HIRED} , 2 ,\t3 \n")
    assert parents.rows(E) == [Employee(1, "Ana Almeida", datetime(2021, 7, 27, 16, 2, 8), 2, 3)]


# --- fields and ids ---------------------------------------------------------------------------

@pytest.mark.parametrize("position, field", list(enumerate(["id", "name", "datetime", "department_id", "job_id"])))
def test_each_missing_employee_field_is_named(load, parents, position, field):
    values = ["5", "Ana Almeida", HIRED, "1", "1"]
    values[position] = "  "
    load(E, "1,First,2021-01-01T00:00:00Z,1,1\n" + ",".join(values) + "\n")
    assert parents.reasons_by_line(E) == {2: (f"{field} is missing",)}
    assert parents.error_ids("task-1", E) == ([] if field == "id" else [5])


@pytest.mark.parametrize("table, field", [(D, "department"), (J, "job")])
def test_missing_name_of_a_department_or_job_is_named(load, store, table, field):
    load(table, "1,\n")
    assert store.reasons_by_line(table) == {1: (f"{field} is missing",)}


@pytest.mark.parametrize("bad_id, reason", [
    ("7.0", "id '7.0' is not a positive integer"),
    ("-1", "id '-1' is not a positive integer"),
    ("abc", "id 'abc' is not a positive integer"),
    ("0", "id '0' is not a positive integer"),
    ("2147483648", "id 2147483648 is larger than the largest id 2147483647"),
])
def test_bad_ids_are_rejected_with_their_reason(load, store, bad_id, reason):
    load(D, f"1,Sales\n{bad_id},Legal\n")
    assert store.reasons_by_line(D) == {2: (reason,)}
    assert store.rows(D) == [Department(1, "Sales")]
    assert store.error_ids("task-1", D) == []  # an id that is not valid is not reported as one


def test_id_of_thousands_of_digits_is_rejected_and_the_load_goes_on(load, store):
    summary = load(D, "1,Sales\n" + "9" * 5000 + ",Legal\n3,Services\n")
    assert totals(summary) == (3, 2, 0, 1)
    assert store.reasons_by_line(D)[2][0].endswith("is larger than the largest id 2147483647")


@pytest.mark.parametrize("moment", ["2021-02-30T00:00:00Z", "2021-13-01T00:00:00Z"])
def test_impossible_dates_are_rejected_with_the_exact_reason(load, parents, moment):
    load(E, f"1,Ana,{moment},1,1\n")
    assert parents.reasons_by_line(E) == {1: (f"datetime '{moment}' is not a valid ISO 8601 datetime",)}


def test_datetime_with_offset_is_stored_in_utc(load, parents):
    load(E, "1,Ana,2021-12-31T23:30:00-01:00,1,1\n2,Bea,2021-06-30T23:30:00-03:00,1,1\n")
    assert [e.datetime for e in parents.rows(E)] == [datetime(2022, 1, 1, 0, 30), datetime(2021, 7, 1, 2, 30)]


def test_datetime_without_offset_is_taken_as_utc(load, parents):
    load(E, "1,Ana,2021-12-31T23:30:00,1,1\n")
    assert parents.rows(E)[0].datetime == datetime(2021, 12, 31, 23, 30)


def test_unknown_department_and_job_are_each_named(load, parents):
    load(E, f"1,Ana,{HIRED},99,1\n2,Bea,{HIRED},1,98\n3,Chen,{HIRED},97,96\n")
    assert parents.reasons_by_line(E) == {
        1: ("department_id 99 does not exist",),
        2: ("job_id 98 does not exist",),
        3: ("department_id 97 does not exist", "job_id 96 does not exist"),
    }
    assert parents.rows(E) == []


def test_every_reason_of_a_row_is_logged_not_only_the_first(load, parents):
    load(E, "1,,2021-02-30,99,0\n")
    assert parents.reasons_by_line(E) == {1: (
        "name is missing", "datetime '2021-02-30' is not a valid ISO 8601 datetime",
        "job_id '0' is not a positive integer", "department_id 99 does not exist")}


def test_employee_of_a_department_rejected_in_the_same_load_is_rejected(ingestion, blobs, store):
    blobs.blobs.update({"departments.csv": b"1,Sales\n2,\n", "jobs.csv": b"1,Nurse\n",
                        "hired_employees.csv": f"1,Ana,{HIRED},1,1\n2,Bea,{HIRED},2,1\n".encode()})
    ingestion.load_all("task-1")
    assert [e.id for e in store.rows(E)] == [1]
    assert store.reasons_by_line(E) == {2: ("department_id 2 does not exist",)}


def test_wrong_number_of_fields_is_rejected_with_the_expected_fields(load, parents):
    load(D, "1,Sales,extra\n2\n")
    load(E, f"1,Ana,{HIRED},1\n")
    assert parents.reasons_by_line(D) == {1: ("expected 2 fields (id, department), found 3",),
                                          2: ("expected 2 fields (id, department), found 1",)}
    assert parents.reasons_by_line(E) == {
        1: ("expected 5 fields (id, name, datetime, department_id, job_id), found 4",)}


def test_string_longer_than_its_column_is_rejected(load, store):
    load(J, f"1,{'x' * 255}\n2,{'y' * 256}\n")
    assert [j.id for j in store.rows(J)] == [1]
    assert store.reasons_by_line(J) == {2: ("job is 256 characters long, longer than its column (255)",)}


# --- blank, unreadable and repeated rows ------------------------------------------------------

def test_blank_lines_are_skipped_without_a_trace(load, store):
    summary = load(D, "1,Sales\n\n   \n\r\n2,Legal\n\n")
    assert totals(summary) == (2, 2, 0, 0) and store.rejections == []


def test_invalid_utf8_line_is_rejected_while_the_others_load(load, store):
    summary = load(D, b"1,Sales\n2,Caf\xe9\n3,Legal\n")
    assert totals(summary) == (3, 2, 0, 1)
    assert store.reasons_by_line(D) == {2: ("line is not valid UTF-8 (byte 5)",)}
    assert [d.id for d in store.rows(D)] == [1, 3]


def test_too_long_line_is_rejected_with_its_reason(ingestion, store):
    summary = LoadSummary("departments", "departments.csv", "task-1")
    records = CsvRecords(io.BytesIO(b"1,Sales\n2," + b"x" * 100 + b"\n3,Legal\n"), max_line_bytes=50)
    ingestion.load_records(D, DataBatches(records.runs(), 1000), summary)
    assert totals(summary) == (3, 2, 0, 1)
    assert store.reasons_by_line(D) == {2: ("line is longer than 50 bytes; the log keeps its first 200 bytes",)}


def test_repeated_id_in_one_file_keeps_the_first_and_rejects_the_later_ones(load, store):
    load(D, "1,Sales\n1,Legal\n2,Services\n1,Support\n")
    assert store.rows(D) == [Department(1, "Sales"), Department(2, "Services")]
    reason = ("id 1 appears earlier in this input; the first occurrence is taken",)
    assert store.reasons_by_line(D) == {2: reason, 4: reason}
    assert store.error_ids("task-1", D) == [1, 1]


def test_repeated_id_across_batches_is_still_caught(load, store):
    load(D, "1,Sales\n2,Legal\n1,Support\n", batch_size=2)
    assert [b.as_dict() for b in store.landed("task-1", D)] == [
        {"batch": 1, "processed": 2, "inserted": 2, "already_exists": 0, "errors": 0, "error_ids": []},
        {"batch": 2, "processed": 1, "inserted": 0, "already_exists": 0, "errors": 1, "error_ids": [1]},
    ]
    assert store.rows(D) == [Department(1, "Sales"), Department(2, "Legal")]


def test_rejected_first_occurrence_does_not_block_a_later_valid_one(load, store):
    load(D, "1,\n1,Legal\n")
    assert store.rows(D) == [Department(1, "Legal")]
    assert store.reasons_by_line(D) == {1: ("department is missing",)}


def test_rejection_keeps_table_source_line_raw_reasons_task_time_and_id(load, store):
    load(D, "1,Sales\n  2 , \n", task_id="task-42")
    [rejection] = store.rejections
    assert (rejection.table, rejection.source, rejection.line_number, rejection.raw, rejection.reasons,
            rejection.task_id, rejection.rejected_at, rejection.row_id) == (
        D, "departments.csv", 2, "  2 , ", ("department is missing",), "task-42", NOW, 2)


# --- batches, summaries and repeated loads ----------------------------------------------------

def test_counts_per_batch_and_in_total(load, store):
    store.add(D, Department(3, "Already here"))
    summary = load(D, "id,department\n1,Sales\n2,\n3,Legal\n4,Services\n1,Again\n", batch_size=2)
    assert summary.as_dict() == {
        "table": "departments", "source": "departments.csv", "task_id": "task-1", "header_skipped": True,
        "total": {"processed": 5, "inserted": 2, "already_exists": 1, "errors": 2},
    }
    assert [b.as_dict() for b in store.landed("task-1", D)] == [
        {"batch": 1, "processed": 2, "inserted": 1, "already_exists": 0, "errors": 1, "error_ids": [2]},
        {"batch": 2, "processed": 2, "inserted": 1, "already_exists": 1, "errors": 0, "error_ids": []},
        {"batch": 3, "processed": 1, "inserted": 0, "already_exists": 0, "errors": 1, "error_ids": [1]},
    ]
    assert store.rows(D) == [Department(1, "Sales"), Department(3, "Already here"), Department(4, "Services")]


def test_an_id_already_in_the_database_is_left_as_it_is(load, store):
    store.add(D, Department(1, "Sales"))
    summary = load(D, "1,Renamed\n")
    assert totals(summary) == (1, 0, 1, 0)
    assert store.rows(D) == [Department(1, "Sales")]


def test_loading_the_same_file_twice_reports_every_valid_row_as_already_there(load, store):
    text = "1,Sales\n2,\n3,Legal\n"
    first = load(D, text, task_id="first")
    second = load(D, text, task_id="second")
    assert totals(first) == (3, 2, 0, 1)
    assert totals(second) == (3, 0, 2, 1)
    assert store.rows(D) == [Department(1, "Sales"), Department(3, "Legal")]


def test_rerun_of_the_same_task_does_not_write_committed_batches_again(load, store):
    text = "1,Sales\n2,\n3,Legal\n4,Services\n"
    first = load(D, text, batch_size=2, task_id="task-1")
    again = load(D, text, batch_size=2, task_id="task-1")
    assert store.commit_calls == [("task-1", D, 1), ("task-1", D, 2)]
    assert again.as_dict() == first.as_dict()  # the figures of the run that committed them
    assert len(store.rejections) == 1


def test_failed_batch_leaves_nothing_half_applied_and_a_rerun_finishes_the_load(clock, blobs):
    store = FakeLoadStore(fail_on_commit=2)
    ingestion = Ingestion(store, blobs, batch_size=2, clock=clock)
    text = b"1,Sales\n2,Legal\n3,\n4,Services\n2,Again\n"

    def run() -> LoadSummary:
        return ingestion.load_stream(D, io.BytesIO(text), source="departments.csv", task_id="task-1")

    with pytest.raises(StoreUnavailable):
        run()
    assert store.rows(D) == [Department(1, "Sales"), Department(2, "Legal")]  # batch 1 only
    assert store.rejections == [] and list(store.recorded_batches("task-1", D)) == [1]

    summary = run()
    assert [call[2] for call in store.commit_calls] == [1, 2, 2, 3]  # batch 1 not written twice
    assert totals(summary) == (5, 3, 0, 2)
    assert store.reasons_by_line(D) == {
        3: ("department is missing",), 5: ("id 2 appears earlier in this input; the first occurrence is taken",)}


@pytest.mark.parametrize("start, limit, ids", [(1, 2, [2, 3]), (3, None, [4, 5]), (0, 1, [1]), (9, None, []),
                                               (2, 0, [])])
def test_start_and_limit_take_a_slice_of_the_data_rows(load, store, start, limit, ids):
    summary = load(D, "id,department\n1,A\n\n2,B\n3,C\n4,D\n5,E\n", start=start, limit=limit)
    assert [d.id for d in store.rows(D)] == ids
    assert totals(summary) == (len(ids), len(ids), 0, 0)


def test_batch_size_must_be_positive(store, blobs):
    with pytest.raises(ValueError, match="batch_size"):
        Ingestion(store, blobs, batch_size=0)


def test_progress_is_told_after_each_batch(load):
    seen = []
    data = b"1,A\n2,B\n3,C\n"
    load(D, data, batch_size=2, bytes_total=len(data), on_progress=seen.append)
    assert [(p.table, p.rows_done, p.bytes_total) for p in seen] == [("departments", 2, 12), ("departments", 3, 12)]
    assert seen[-1].bytes_done == len(data)


# --- loading from storage ---------------------------------------------------------------------

def test_load_blob_reads_the_tables_own_file_or_a_named_one(ingestion, blobs, store):
    blobs.blobs.update({"departments.csv": b"1,Sales\n", "upload/other.csv": b"2,Legal\n"})
    assert ingestion.load_blob(D, "t1").source == "departments.csv"
    assert ingestion.load_blob(D, "t2", "upload/other.csv").source == "upload/other.csv"
    assert [d.id for d in store.rows(D)] == [1, 2]


def test_load_blob_of_a_missing_file_is_not_found(ingestion):
    with pytest.raises(NotFound):
        ingestion.load_blob(J, "t1")


def test_load_all_goes_departments_jobs_employees(ingestion, blobs, store):
    blobs.blobs.update({"hired_employees.csv": f"1,Ana,{HIRED},1,1\n".encode(),
                        "jobs.csv": b"1,Nurse\n", "departments.csv": b"1,Sales\n"})
    summaries = ingestion.load_all("task-1")
    assert blobs.opened == ["departments.csv", "jobs.csv", "hired_employees.csv"]
    assert [s.table for s in summaries] == ["departments", "jobs", "hired_employees"]
    assert [totals(s) for s in summaries] == [(1, 1, 0, 0)] * 3
    assert store.rows(E) == [Employee(1, "Ana", datetime(2021, 7, 27, 16, 2, 8), 1, 1)]


@pytest.mark.parametrize("missing", ["departments.csv", "jobs.csv", "hired_employees.csv"])
def test_load_all_refuses_before_loading_anything_when_a_file_is_missing(ingestion, blobs, store, missing):
    blobs.blobs.update({"departments.csv": b"1,Sales\n", "jobs.csv": b"1,Nurse\n",
                        "hired_employees.csv": f"1,Ana,{HIRED},1,1\n".encode()})
    del blobs.blobs[missing]
    with pytest.raises(NotFound, match=missing):
        ingestion.load_all("task-1")
    assert blobs.opened == [] and store.commit_calls == []
