"""SQL Server cannot run here: its SQL is compiled with the pyodbc dialect and read instead.

Compiling needs no driver: the dialect is built without pyodbc, which is not installed for the tests.
"""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy.dialects.mssql import pyodbc

from domain.entities import Employee
from domain.tables import Table
from infra.db.hire_summaries import COUNTED_FROM_ROWS, MERGE_ROWS, merge
from infra.db.inserts import insert_where_absent, rows_per_statement
from infra.db.rejection_log import logged_query
from infra.db.report_queries import HIRES_BY_QUARTER, HIRES_PER_DEPARTMENT, SUMMARY_BY_QUARTER, SUMMARY_PER_DEPARTMENT
from infra.db.resolutions import SET_REASONS, resolved_by
from infra.db.schema import hired_employees

SQL_SERVER_MAX_PARAMS = 2100


@pytest.fixture
def dialect() -> pyodbc.dialect:
    return pyodbc.dialect(paramstyle="qmark")  # pyodbc's own style, as an engine would set it


def flat(sql) -> str:
    return re.sub(r"\s+", " ", str(sql))


def assert_portable(sql: str) -> None:
    for construct in ("LIMIT", "ON CONFLICT", "IGNORE", "RETURNING", "ILIKE", "::", "`", "%s"):
        assert construct not in sql


def test_report_1_from_the_summary_compiles_for_sql_server(dialect):
    compiled = SUMMARY_BY_QUARTER.compile(dialect=dialect)
    sql = flat(compiled)

    assert_portable(sql)
    assert sql.startswith("SELECT departments.department, jobs.job, CAST(sum(CASE WHEN (hire_summaries.quarter = ?) "
                          "THEN hire_summaries.hired ELSE ? END) AS INTEGER) AS [Q1],")
    assert sql.endswith("FROM hire_summaries JOIN departments ON departments.id = hire_summaries.department_id "
                        "JOIN jobs ON jobs.id = hire_summaries.job_id WHERE hire_summaries.year = ? "
                        "GROUP BY departments.id, departments.department, jobs.id, jobs.job")
    assert compiled.positiontup[-1] == "year" and len(compiled.positiontup) == 9


def test_report_2s_counts_from_the_summary_compile_for_sql_server(dialect):
    compiled = SUMMARY_PER_DEPARTMENT.compile(dialect=dialect)
    sql = flat(compiled)

    assert_portable(sql)
    # Every department, one with no hires in the year counting 0: the mean is taken over all of them.
    assert sql == ("SELECT departments.id, departments.department, CAST(coalesce(sum(hire_summaries.hired), ?) "
                   "AS INTEGER) AS hired FROM departments LEFT OUTER JOIN hire_summaries ON "
                   "hire_summaries.department_id = departments.id AND hire_summaries.year = ? "
                   "GROUP BY departments.id, departments.department")


def test_the_reports_from_the_rows_compile_for_sql_server(dialect):
    by_quarter = HIRES_BY_QUARTER.compile(dialect=dialect)
    per_department = flat(HIRES_PER_DEPARTMENT.compile(dialect=dialect))

    assert_portable(flat(by_quarter))
    assert_portable(per_department)
    assert flat(by_quarter).endswith("WHERE hired_employees.datetime >= ? AND hired_employees.datetime < ? "
                                     "GROUP BY departments.id, departments.department, jobs.id, jobs.job")
    assert by_quarter.positiontup.count("q0") == 2 and by_quarter.positiontup.count("q4") == 2
    assert "FROM departments LEFT OUTER JOIN hired_employees ON hired_employees.department_id = departments.id " \
           "AND hired_employees.datetime >= ? AND hired_employees.datetime < ?" in per_department


def test_the_summary_counted_from_the_rows_compiles_for_sql_server(dialect):
    sql = flat(COUNTED_FROM_ROWS.compile(dialect=dialect))

    assert_portable(sql)
    # Grouped by the subquery's columns, not by expressions holding parameters, which SQL Server would
    # not match with the select list's.
    assert sql.startswith("SELECT keyed.year, keyed.department_id, keyed.job_id, keyed.quarter, count(*) AS hired "
                          "FROM (SELECT CAST(DATEPART(year, hired_employees.datetime) AS INTEGER) AS year,")
    assert sql.endswith("GROUP BY keyed.year, keyed.department_id, keyed.job_id, keyed.quarter")


def _summary_records(count: int) -> list[tuple]:
    return [(2021, 1, n, 1 + n % 4, n) for n in range(count)]  # year, department, job, quarter, hired


def test_the_summary_upsert_is_a_merge_within_sql_servers_parameter_limit(dialect):
    compiled = merge(_summary_records(MERGE_ROWS)).compile(dialect=dialect)
    sql = flat(compiled)

    assert_portable(sql)
    assert len(compiled.positiontup) == 5 * MERGE_ROWS <= SQL_SERVER_MAX_PARAMS
    assert sql.startswith("MERGE hire_summaries WITH (HOLDLOCK) AS target USING (VALUES (?, ?, ?, ?, ?), ")
    assert sql.endswith(") AS incoming (year, department_id, job_id, quarter, hired) ON target.year = incoming.year "
                        "AND target.department_id = incoming.department_id AND target.job_id = incoming.job_id AND "
                        "target.quarter = incoming.quarter WHEN MATCHED THEN UPDATE SET hired = target.hired + "
                        "incoming.hired WHEN NOT MATCHED THEN INSERT (year, department_id, job_id, quarter, hired) "
                        "VALUES (incoming.year, incoming.department_id, incoming.job_id, incoming.quarter, "
                        "incoming.hired);")
    # The values in the order the rows were given (the caller sorts them by key).
    assert [compiled.params[name] for name in compiled.positiontup[:10]] == [2021, 1, 0, 1, 0, 2021, 1, 1, 2, 1]


def _records(ids: range) -> list[dict]:
    return [Employee(i, f"Person {i}", datetime(2021, 1, 1, 0, 0, 0, i), 1, 1)._asdict() for i in ids]


def test_a_batch_of_a_thousand_employees_goes_in_statements_within_sql_servers_parameter_limit(dialect):
    per_statement = rows_per_statement(dialect.name, hired_employees)
    chunks = [range(start, min(start + per_statement, 1001)) for start in range(1, 1001, per_statement)]
    compiled = [insert_where_absent(hired_employees, _records(chunk)).compile(dialect=dialect) for chunk in chunks]

    assert sum(len(chunk) for chunk in chunks) == 1000
    assert [len(c.positiontup) for c in compiled] == [5 * len(chunk) for chunk in chunks]
    assert max(len(c.positiontup) for c in compiled) <= SQL_SERVER_MAX_PARAMS
    assert len(compiled) == 3  # 400 + 400 + 200 rows: 2000 parameters at most, not 1000 statements


def test_the_portable_insert_skips_present_ids_with_not_exists(dialect):
    sql = flat(insert_where_absent(hired_employees, _records(range(1, 3))).compile(dialect=dialect))

    assert_portable(sql)
    assert sql == (
        "INSERT INTO hired_employees (id, name, datetime, department_id, job_id) "
        "SELECT incoming.id, incoming.name, incoming.datetime, incoming.department_id, incoming.job_id "
        "FROM (VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)) AS incoming (id, name, datetime, department_id, job_id) "
        "WHERE NOT (EXISTS (SELECT * FROM hired_employees WHERE hired_employees.id = incoming.id))")


def test_the_rejection_log_s_statements_compile_for_sql_server(dialect):
    page = flat(logged_query(Table.HIRED_EMPLOYEES, "t1", False, 40, 1000, or_resolved_by="r1").compile(
        dialect=dialect))
    assert_portable(page)
    assert page.startswith("SELECT TOP __[POSTCOMPILE_param_1] rejected_rows.id, rejected_rows.line_number, "
                           "rejected_rows.raw_text, rejected_rows.reasons, rejected_rows.fields FROM rejected_rows "
                           "WHERE rejected_rows.table_name = ? AND rejected_rows.id > ? AND "
                           "(rejected_rows.resolved_by IS NULL OR rejected_rows.resolved_by = ?)")
    assert page.endswith("AND rejected_rows.task_id = ? ORDER BY rejected_rows.id")

    resolved = flat(resolved_by("hired_employees", [3, 4], "r1", datetime(2024, 1, 1)).compile(dialect=dialect))
    assert_portable(resolved)
    assert resolved == ("UPDATE rejected_rows SET resolved_by=?, resolved_at=? WHERE rejected_rows.id IN "
                        "(__[POSTCOMPILE_id_1]) AND rejected_rows.table_name = ? AND rejected_rows.resolved_by IS NULL")
    assert flat(SET_REASONS.compile(dialect=dialect)) == "UPDATE rejected_rows SET reasons=? WHERE rejected_rows.id = ?"
