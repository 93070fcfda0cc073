"""The two report queries, built once with SQLAlchemy Core; they run unchanged on every dialect."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from core.reports import DepartmentHires, QuarterlyHires
from infra.db.failures import unavailable_on_failure
from infra.db.schema import UtcDateTime, departments, hired_employees, jobs

_QUARTERS = [sa.bindparam(f"q{i}", type_=UtcDateTime) for i in range(5)]


def _hires_by_quarter() -> sa.Select:
    e = hired_employees
    moment = e.c.datetime

    def hires_in(quarter: int) -> sa.ColumnElement:
        inside = sa.and_(moment >= _QUARTERS[quarter], moment < _QUARTERS[quarter + 1])
        return sa.func.sum(sa.case((inside, 1), else_=0)).label(f"Q{quarter + 1}")

    return (
        sa.select(departments.c.department, jobs.c.job, *(hires_in(q) for q in range(4)))
        .select_from(e.join(departments).join(jobs))
        .where(moment >= _QUARTERS[0], moment < _QUARTERS[4])
        # By id, not by name alone: under a case- or accent-insensitive collation (MariaDB's
        # default utf8mb4_general_ci, SQL Server's *_CI_AS) "Engineering" and "engineering" would
        # otherwise fall into one group.
        .group_by(departments.c.id, departments.c.department, jobs.c.id, jobs.c.job)
    )


def _departments_above_mean() -> sa.Select:
    e = hired_employees
    start, end = sa.bindparam("start", type_=UtcDateTime), sa.bindparam("end", type_=UtcDateTime)
    in_year = sa.and_(e.c.department_id == departments.c.id, e.c.datetime >= start, e.c.datetime < end)
    counts = (
        sa.select(departments.c.id, departments.c.department, sa.func.count(e.c.id).label("hired"))
        .select_from(departments.outerjoin(e, in_year))
        .group_by(departments.c.id, departments.c.department)
        .cte("hires_per_department")
    )
    # hired > total / n, compared as hired * n > total: exact in integers on every database.
    n = sa.select(sa.func.count()).select_from(counts).scalar_subquery()
    total = sa.select(sa.func.sum(counts.c.hired)).scalar_subquery()
    return sa.select(counts.c.id, counts.c.department, counts.c.hired).where(counts.c.hired * n > total)


def _hires_and_departments() -> sa.Select:
    e = hired_employees
    start, end = sa.bindparam("start", type_=UtcDateTime), sa.bindparam("end", type_=UtcDateTime)
    hires = sa.select(sa.func.count(e.c.id)).where(e.c.datetime >= start, e.c.datetime < end).scalar_subquery()
    return sa.select(hires.label("hires"), sa.select(sa.func.count(departments.c.id)).scalar_subquery().label("n"))


HIRES_BY_QUARTER = _hires_by_quarter()
DEPARTMENTS_ABOVE_MEAN = _departments_above_mean()
HIRES_AND_DEPARTMENTS = _hires_and_departments()


class SqlReportQueries:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def hires_by_quarter(self, quarter_starts: list[datetime]) -> list[QuarterlyHires]:
        params = {f"q{i}": moment for i, moment in enumerate(quarter_starts)}
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [QuarterlyHires(r.department, r.job, int(r.Q1), int(r.Q2), int(r.Q3), int(r.Q4))
                    for r in conn.execute(HIRES_BY_QUARTER, params)]

    def departments_above_mean(self, start: datetime, end: datetime) -> list[DepartmentHires]:
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [DepartmentHires(r.id, r.department, int(r.hired))
                    for r in conn.execute(DEPARTMENTS_ABOVE_MEAN, {"start": start, "end": end})]

    def hires_and_departments(self, start: datetime, end: datetime) -> tuple[int, int]:
        with unavailable_on_failure(), self._engine.connect() as conn:
            row = conn.execute(HIRES_AND_DEPARTMENTS, {"start": start, "end": end}).one()
        return int(row.hires), int(row.n)
