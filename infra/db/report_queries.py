"""The report queries, built once with SQLAlchemy Core; they run unchanged on every dialect.

SqlReportQueries reads hire_summaries (a few rows per department and job), which every batch keeps in its
own transaction; SqlRowReportQueries counts the hires themselves, and is what the summary must equal (the
equality tests compare the two through the Reports use case)."""
from __future__ import annotations

import sqlalchemy as sa

from core.reports import DepartmentHires, QuarterlyHires, quarter_starts
from infra.db.failures import unavailable_on_failure
from infra.db.hire_summaries import fold
from infra.db.schema import UtcDateTime, departments, hire_summaries, hired_employees, jobs

# By department and job id, not by name alone: under a case- or accent-insensitive collation (MariaDB's
# default utf8mb4_general_ci, SQL Server's *_CI_AS) "Engineering" and "engineering" would otherwise fall
# into one group.
_BY_DEPARTMENT_AND_JOB = (departments.c.id, departments.c.department, jobs.c.id, jobs.c.job)


def _count(expression: sa.ColumnElement) -> sa.ColumnElement:
    # A SUM is DECIMAL on MariaDB and NUMERIC on PostgreSQL: cast, so every driver hands over an int.
    return sa.cast(expression, sa.Integer)


# --- from the summary ----------------------------------------------------------------------------------

def _summary_by_quarter() -> sa.Select:
    s = hire_summaries
    quarters = [_count(sa.func.sum(sa.case((s.c.quarter == q, s.c.hired), else_=0))).label(f"Q{q}")
                for q in range(1, 5)]
    return (sa.select(departments.c.department, jobs.c.job, *quarters)
            .select_from(s.join(departments, departments.c.id == s.c.department_id)
                         .join(jobs, jobs.c.id == s.c.job_id))
            .where(s.c.year == sa.bindparam("year"))
            .group_by(*_BY_DEPARTMENT_AND_JOB))


def _summary_per_department() -> sa.Select:
    s = hire_summaries
    in_year = sa.and_(s.c.department_id == departments.c.id, s.c.year == sa.bindparam("year"))
    return (sa.select(departments.c.id, departments.c.department,
                      _count(sa.func.coalesce(sa.func.sum(s.c.hired), 0)).label("hired"))
            .select_from(departments.outerjoin(s, in_year))
            .group_by(departments.c.id, departments.c.department))


SUMMARY_BY_QUARTER = _summary_by_quarter()
SUMMARY_PER_DEPARTMENT = _summary_per_department()


class SqlReportQueries:
    """The reports from hire_summaries: each one statement, so its rows are of one moment, once the counts
    the batches appended since the last fold are folded in (in the same transaction)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def hires_by_quarter(self, year: int) -> list[QuarterlyHires]:
        with unavailable_on_failure(), self._engine.begin() as conn:
            fold(conn)
            return list(map(QuarterlyHires._make, conn.execute(SUMMARY_BY_QUARTER, {"year": year})))

    def hires_per_department(self, year: int) -> list[DepartmentHires]:
        with unavailable_on_failure(), self._engine.begin() as conn:
            fold(conn)
            return list(map(DepartmentHires._make, conn.execute(SUMMARY_PER_DEPARTMENT, {"year": year})))


# --- from the rows -------------------------------------------------------------------------------------

_QUARTERS = [sa.bindparam(f"q{i}", type_=UtcDateTime) for i in range(5)]


def _rows_by_quarter() -> sa.Select:
    e = hired_employees
    moment = e.c.datetime

    def hires_in(quarter: int) -> sa.ColumnElement:
        inside = sa.and_(moment >= _QUARTERS[quarter], moment < _QUARTERS[quarter + 1])
        return _count(sa.func.sum(sa.case((inside, 1), else_=0))).label(f"Q{quarter + 1}")

    return (
        sa.select(departments.c.department, jobs.c.job, *(hires_in(q) for q in range(4)))
        .select_from(e.join(departments).join(jobs))
        .where(moment >= _QUARTERS[0], moment < _QUARTERS[4])
        .group_by(*_BY_DEPARTMENT_AND_JOB)
    )


def _rows_per_department() -> sa.Select:
    e = hired_employees
    in_year = sa.and_(e.c.department_id == departments.c.id, e.c.datetime >= _QUARTERS[0],
                      e.c.datetime < _QUARTERS[4])
    return (sa.select(departments.c.id, departments.c.department, sa.func.count(e.c.id).label("hired"))
            .select_from(departments.outerjoin(e, in_year))
            .group_by(departments.c.id, departments.c.department))


HIRES_BY_QUARTER = _rows_by_quarter()
HIRES_PER_DEPARTMENT = _rows_per_department()


def _quarters(year: int) -> dict:
    return {f"q{i}": moment for i, moment in enumerate(quarter_starts(year))}


class SqlRowReportQueries:
    """The reports counted from hired_employees, the year as a datetime range the index serves."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def hires_by_quarter(self, year: int) -> list[QuarterlyHires]:
        with unavailable_on_failure(), self._engine.connect() as conn:
            return list(map(QuarterlyHires._make, conn.execute(HIRES_BY_QUARTER, _quarters(year))))

    def hires_per_department(self, year: int) -> list[DepartmentHires]:
        with unavailable_on_failure(), self._engine.connect() as conn:
            return list(map(DepartmentHires._make, conn.execute(HIRES_PER_DEPARTMENT, _quarters(year))))
