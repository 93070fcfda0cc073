"""The SQL adapters (load store, row reader, report queries) on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa

from core.errors import StoreUnavailable
from core.ports import BatchWrite
from core.reports import Reports
from core.summary import BatchSummary
from domain.entities import Department, Employee, Job
from domain.rejections import Rejection
from domain.tables import Table
from infra.db.hire_summaries import SqlHireSummary
from infra.db.load_store import SqlLoadStore
from infra.db.report_queries import SqlReportQueries, SqlRowReportQueries
from infra.db.row_reader import SqlRowReader
from infra.db.schema import departments, hired_employees, jobs, load_batches, rejected_rows

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456)


@pytest.fixture
def store(engine) -> SqlLoadStore:
    return SqlLoadStore(engine, lambda: NOW)


@pytest.fixture
def reader(engine) -> SqlRowReader:
    return SqlRowReader(engine)


@pytest.fixture
def task_id() -> str:
    return f"test-{uuid.uuid4().hex}"


def insert(engine: sa.Engine, table: sa.Table, rows: list[tuple]) -> None:
    with engine.begin() as conn:
        conn.execute(table.insert(), [dict(zip(table.c.keys(), row)) for row in rows])


def select_all(engine: sa.Engine, table: sa.Table) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def rejection(table: Table, task_id: str, line: int, reasons=("id is missing",), row_id=None,
              raw: str | None = None, source: str = "departments.csv") -> Rejection:
    return Rejection(table, source, line, raw if raw is not None else f"line {line},", tuple(reasons),
                     task_id, NOW, row_id)


# --- SqlLoadStore.known_ids ---------------------------------------------------------------------

def test_known_ids_finds_exactly_the_present_ids_among_more_than_a_thousand(engine, store):
    insert(engine, departments, [(i, f"Department {i}") for i in range(2, 5001, 2)])

    wanted = (i for i in range(1, 3502))  # an iterator of 3501 ids: four chunks of the IN list
    assert store.known_ids(Table.DEPARTMENTS, wanted) == set(range(2, 3502, 2))
    assert store.known_ids(Table.JOBS, range(1, 1500)) == set()
    assert store.known_ids(Table.DEPARTMENTS, []) == set()


# --- SqlLoadStore.commit_batch ------------------------------------------------------------------

def test_commit_batch_inserts_new_rows_and_counts_present_ones_unchanged(engine, store, task_id):
    insert(engine, departments, [(1, "Kept"), (3, "Also kept")])
    rows = [Department(1, "Replaced?"), Department(2, "Two"), Department(3, "Replaced?"), Department(4, "Four")]
    write = BatchWrite(Table.DEPARTMENTS, task_id, 1, 5, rows,
                       [rejection(Table.DEPARTMENTS, task_id, 6, row_id=9)])

    summary = store.commit_batch(write)

    assert summary == BatchSummary(1, 5, 2, 2, 1, (9,))
    assert select_all(engine, departments) == [(1, "Kept"), (2, "Two"), (3, "Also kept"), (4, "Four")]
    assert store.recorded_batches(task_id, Table.DEPARTMENTS) == {1: summary}
    assert store.recorded_batches(task_id, Table.JOBS) == {}
    assert store.recorded_rows(task_id, Table.DEPARTMENTS) == 5
    assert store.recorded_rows(task_id, Table.JOBS) == 0


def test_commit_batch_of_a_thousand_employees_inserts_all_of_them(engine, store, task_id):
    insert(engine, departments, [(1, "D")])
    insert(engine, jobs, [(1, "J")])
    insert(engine, hired_employees, [(5, "Already here", datetime(2021, 1, 1), 1, 1)])
    rows = [Employee(i, f"Person {i}", datetime(2021, 1, 1, 0, 0, i % 60, i), 1, 1) for i in range(1, 1001)]

    summary = store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task_id, 1, 1000, rows, []))

    assert (summary.inserted, summary.already_exists, summary.errors) == (999, 1, 0)
    assert count(engine, hired_employees) == 1000


def test_rejected_rows_are_logged_with_every_field_and_read_back_filtered_and_paged(store, reader):
    task_a, task_b = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    raw = '7,"Quoted, with a comma",2021-13-01T00:00:00Z,1,ünïcødé ✓'
    reasons = ("datetime '2021-13-01T00:00:00Z' is not a valid ISO 8601 datetime",
               "job_id 'ünïcødé ✓' is not a positive integer")
    source = "uploads/hired_employees.csv"
    first = [rejection(Table.HIRED_EMPLOYEES, task_a, 2, reasons, 7, raw, source)]
    first += [rejection(Table.HIRED_EMPLOYEES, task_a, line, source=source) for line in (3, 5, 8, 13)]
    store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task_a, 1, 5, [], first))
    store.commit_batch(BatchWrite(Table.JOBS, task_a, 1, 2, [], [rejection(Table.JOBS, task_a, n) for n in (2, 3)]))
    store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task_b, 1, 1, [],
                                  [rejection(Table.HIRED_EMPLOYEES, task_b, 4, source="request")]))

    logged = reader.rejections(Table.HIRED_EMPLOYEES, task_a, limit=100, offset=0)

    assert [r["line_number"] for r in logged] == [2, 3, 5, 8, 13]
    assert isinstance(logged[0].pop("id"), int)
    assert logged[0] == {
        "table_name": "hired_employees", "source": "uploads/hired_employees.csv", "line_number": 2,
        "raw_text": raw, "reasons": list(reasons), "task_id": task_a, "rejected_at": "2024-05-06T07:08:09.123456Z",
        "fields": None, "resolved_by": None, "resolved_at": None,
    }
    page = reader.rejections(Table.HIRED_EMPLOYEES, task_a, limit=2, offset=2)
    assert [r["line_number"] for r in page] == [5, 8]
    assert reader.rejections(Table.HIRED_EMPLOYEES, task_a, limit=10, offset=5) == []
    assert [(r["table_name"], r["line_number"]) for r in reader.rejections(None, task_a, 100, 0)] == [
        ("hired_employees", n) for n in (2, 3, 5, 8, 13)] + [("jobs", 2), ("jobs", 3)]
    assert [(r["task_id"], r["source"]) for r in reader.rejections(Table.HIRED_EMPLOYEES, None, 100, 0)] == [
        (task_a, "uploads/hired_employees.csv")] * 5 + [(task_b, "request")]
    assert [r["task_id"] for r in reader.rejections(Table.JOBS, None, 100, 0)] == [task_a, task_a]
    assert len(reader.rejections(None, None, 100, 0)) == 8
    assert reader.rejections(Table.DEPARTMENTS, None, 100, 0) == []


def test_a_batch_committed_again_returns_its_recorded_figures_without_writing_twice(engine, store, task_id):
    insert(engine, departments, [(3, "There before")])
    rows = [Department(1, "One"), Department(2, "Two"), Department(3, "Three")]
    write = BatchWrite(Table.DEPARTMENTS, task_id, 1, 4, rows, [rejection(Table.DEPARTMENTS, task_id, 5, row_id=4)])
    first = store.commit_batch(write)
    assert first == BatchSummary(1, 4, 2, 1, 1, (4,))

    assert store.commit_batch(write) == first
    # A redelivery whose rows differ (a new id) still writes nothing: the recorded batch stands.
    assert store.commit_batch(BatchWrite(Table.DEPARTMENTS, task_id, 1, 1, [Department(9, "Nine")], [])) == first

    assert select_all(engine, departments) == [(1, "One"), (2, "Two"), (3, "There before")]
    assert count(engine, rejected_rows) == 1
    assert count(engine, load_batches) == 1
    assert store.recorded_batches(task_id, Table.DEPARTMENTS) == {1: first}


def test_a_batch_whose_insert_fails_leaves_nothing_of_itself(engine, store, task_id):
    insert(engine, departments, [(1, "D")])
    insert(engine, jobs, [(1, "J")])
    store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task_id, 1, 1,
                                  [Employee(1, "Before", datetime(2021, 1, 1), 1, 1)], []))
    # Department 999 vanished after validation (say, a restore ran meanwhile): the foreign key fires.
    rows = [Employee(2, "Fine", datetime(2021, 1, 2), 1, 1), Employee(3, "Orphan", datetime(2021, 1, 3), 999, 1),
            Employee(4, "Fine too", datetime(2021, 1, 4), 1, 1)]
    failing = BatchWrite(Table.HIRED_EMPLOYEES, task_id, 2, 4, rows,
                         [rejection(Table.HIRED_EMPLOYEES, task_id, 6, row_id=5)])

    # The same failure on every database, and one the core can name: the port promises StoreUnavailable.
    with pytest.raises(StoreUnavailable):
        store.commit_batch(failing)

    assert [r[0] for r in select_all(engine, hired_employees)] == [1]
    assert count(engine, rejected_rows) == 0
    assert list(store.recorded_batches(task_id, Table.HIRED_EMPLOYEES)) == [1]


# --- SqlRowReader ---------------------------------------------------------------------------------

def test_page_and_count_read_a_table_in_id_order(engine, store, reader, task_id):
    store.commit_batch(BatchWrite(Table.JOBS, task_id, 1, 25, [Job(i, f"Job {i}") for i in range(25, 0, -1)], []))

    assert reader.count(Table.JOBS) == 25
    assert reader.count(Table.DEPARTMENTS) == 0
    assert reader.page(Table.JOBS, limit=3, offset=0) == [{"id": i, "job": f"Job {i}"} for i in (1, 2, 3)]
    assert [r["id"] for r in reader.page(Table.JOBS, limit=10, offset=20)] == [21, 22, 23, 24, 25]
    assert reader.page(Table.JOBS, limit=10, offset=25) == []
    reader.check()


def test_datetimes_round_trip_to_the_microsecond_in_utc(engine, store, reader, task_id):
    insert(engine, departments, [(1, "D")])
    insert(engine, jobs, [(1, "J")])
    moments = [datetime(2021, 12, 31, 23, 59, 59, 999999), datetime(2022, 1, 1), datetime(1999, 6, 30, 12, 0, 0, 1)]
    rows = [Employee(i, f"P{i}", moment, 1, 1) for i, moment in enumerate(moments, start=1)]
    store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task_id, 1, 3, rows, []))

    assert [r["datetime"] for r in reader.page(Table.HIRED_EMPLOYEES, 10, 0)] == [
        "2021-12-31T23:59:59.999999Z", "2022-01-01T00:00:00Z", "1999-06-30T12:00:00.000001Z"]
    with engine.connect() as conn:
        _set_session_time_zone(conn)  # a client in another time zone reads the same UTC values
        stored = conn.execute(sa.select(hired_employees.c.datetime).order_by(hired_employees.c.id)).scalars().all()
    assert stored == moments


def _set_session_time_zone(conn: sa.Connection) -> None:
    statement = {"postgresql": "SET TIME ZONE 'Asia/Kolkata'", "mysql": "SET time_zone = '+05:30'"}
    if conn.dialect.name in statement:
        conn.execute(sa.text(statement[conn.dialect.name]))


# --- the report queries, through the Reports use case --------------------------------------------

DEPARTMENTS = [(1, "engineering"), (2, "Engineering"), (3, "Sales"), (4, "Accounting"), (5, "Support")]
JOBS = [(1, "General Manager"), (2, "GIS Technical Architect"), (3, "analyst")]
HIRES = [  # id, datetime, department, job
    (1, datetime(2021, 1, 1), 2, 1),
    (2, datetime(2021, 3, 31, 23, 59, 59, 999999), 2, 1),
    (3, datetime(2021, 4, 1), 2, 2),
    (4, datetime(2021, 12, 31, 23, 59, 59, 999999), 1, 2),
    (5, datetime(2021, 7, 15, 10, 0, 0), 1, 3),
    (6, datetime(2021, 10, 1), 1, 1),
    (7, datetime(2021, 2, 1), 5, 3),
    (8, datetime(2021, 6, 30, 23, 59, 59, 999999), 5, 3),
    (9, datetime(2022, 1, 1), 3, 1),  # the first moment of 2022: not in 2021
    (10, datetime(2020, 12, 31, 23, 59, 59, 999999), 3, 1),  # the last moment of 2020
    (11, datetime(2022, 3, 1), 3, 2),
]


@pytest.fixture(params=["summary", "rows"])
def reports(engine, request) -> Reports:
    """Both ways of counting: the summary (rebuilt from the rows inserted here) and the rows themselves."""
    insert(engine, departments, DEPARTMENTS)
    insert(engine, jobs, JOBS)
    insert(engine, hired_employees, [(i, f"Person {i}", moment, d, j) for i, moment, d, j in HIRES])
    SqlHireSummary(engine).rebuild()
    return Reports(SqlReportQueries(engine) if request.param == "summary" else SqlRowReportQueries(engine))


def test_hired_by_quarter_counts_each_department_and_job_in_case_insensitive_order(reports):
    # Case-folded order, ties by the exact text: "Engineering" before "engineering", "General
    # Manager" before "GIS Technical Architect" (a binary collation would put "GIS" first), and
    # "engineering" and "Engineering" kept apart even under MariaDB's case-insensitive collation.
    assert [tuple(r.values()) for r in reports.hired_by_quarter(2021)] == [
        ("Engineering", "General Manager", 2, 0, 0, 0),
        ("Engineering", "GIS Technical Architect", 0, 1, 0, 0),
        ("engineering", "analyst", 0, 0, 1, 0),
        ("engineering", "General Manager", 0, 0, 0, 1),
        ("engineering", "GIS Technical Architect", 0, 0, 0, 1),
        ("Support", "analyst", 1, 1, 0, 0),
    ]
    assert list(reports.hired_by_quarter(2021)[0]) == ["department", "job", "Q1", "Q2", "Q3", "Q4"]


def test_hired_by_quarter_takes_the_year_as_a_utc_range(reports):
    assert [tuple(r.values()) for r in reports.hired_by_quarter(2022)] == [
        ("Sales", "General Manager", 1, 0, 0, 0), ("Sales", "GIS Technical Architect", 1, 0, 0, 0)]
    assert [tuple(r.values()) for r in reports.hired_by_quarter(2020)] == [("Sales", "General Manager", 0, 0, 0, 1)]
    assert reports.hired_by_quarter(2019) == []


def test_hiring_above_average_counts_departments_without_hires_in_the_mean(reports):
    # 2021: 3 + 3 + 0 + 0 + 2 = 8 hires over 5 departments, a mean of 1.6, so Support (2) is above
    # it; were Sales and Accounting (0) left out the mean would be 8 / 3 and Support below it.
    assert reports.hiring_above_average(2021) == [
        {"id": 2, "department": "Engineering", "hired": 3},
        {"id": 1, "department": "engineering", "hired": 3},
        {"id": 5, "department": "Support", "hired": 2},
    ]
    # 2022: Sales alone has 2 hires, a mean of 0.4.
    assert reports.hiring_above_average(2022) == [{"id": 3, "department": "Sales", "hired": 2}]
    # No hires at all: nobody is above a mean of 0.
    assert reports.hiring_above_average(2019) == []


def test_a_batch_of_many_long_rejected_lines_is_logged_whole(engine, store, task_id):
    """Together far past a server's packet limit (MariaDB's 16 MB here): each kept exactly as it came."""
    awkward = "\\x" * 9_000 + "\"quoted\" 'single' ✓ "  # escapes twice over on the way: 64 KB a line
    raws = [f"{line},{awkward}{line}" * 3 for line in range(2, 302)]
    rejected = [rejection(Table.DEPARTMENTS, task_id, line, raw=raw) for line, raw in enumerate(raws, start=2)]

    store.commit_batch(BatchWrite(Table.DEPARTMENTS, task_id, 1, len(rejected), [], rejected))

    with engine.connect() as conn:
        logged = conn.execute(sa.select(rejected_rows.c.line_number, rejected_rows.c.raw_text).where(
            rejected_rows.c.task_id == task_id).order_by(rejected_rows.c.line_number)).all()
    assert [tuple(row) for row in logged] == list(enumerate(raws, start=2))
