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
from infra.db.inserts import insert_where_absent, rows_per_statement
from infra.db.rejection_log import logged_query
from infra.db.report_queries import DEPARTMENTS_ABOVE_MEAN, HIRES_BY_QUARTER
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


def test_hires_by_quarter_compiles_for_sql_server(dialect):
    compiled = HIRES_BY_QUARTER.compile(dialect=dialect)
    sql = flat(compiled)

    assert_portable(sql)
    assert sql.startswith("SELECT departments.department, jobs.job, sum(CASE WHEN (hired_employees.datetime >= ? "
                          "AND hired_employees.datetime < ?) THEN ? ELSE ? END) AS [Q1],")
    assert "FROM hired_employees JOIN departments ON departments.id = hired_employees.department_id " \
           "JOIN jobs ON jobs.id = hired_employees.job_id" in sql
    assert sql.endswith("WHERE hired_employees.datetime >= ? AND hired_employees.datetime < ? "
                        "GROUP BY departments.id, departments.department, jobs.id, jobs.job")
    assert compiled.positiontup.count("q0") == 2 and compiled.positiontup.count("q4") == 2
    assert len(compiled.positiontup) == 18


def test_departments_above_mean_compiles_for_sql_server(dialect):
    compiled = DEPARTMENTS_ABOVE_MEAN.compile(dialect=dialect)
    sql = flat(compiled)

    assert_portable(sql)
    assert sql.startswith("WITH hires_per_department AS (SELECT departments.id AS id, departments.department "
                          "AS department, count(hired_employees.id) AS hired FROM departments LEFT OUTER JOIN "
                          "hired_employees ON hired_employees.department_id = departments.id AND "
                          "hired_employees.datetime >= ? AND hired_employees.datetime < ? GROUP BY")
    # The mean compared in integers, as hired * n > total: no division, no float, on SQL Server too.
    assert sql.endswith("WHERE hires_per_department.hired * (SELECT count(*) AS count_1 FROM hires_per_department) "
                        "> (SELECT sum(hires_per_department.hired) AS sum_1 FROM hires_per_department)")
    assert compiled.positiontup == ["start", "end"]


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
