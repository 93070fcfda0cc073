"""The check every tier makes of the reports' summary: row for row what the hires give, and so both reports."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa

from core.reports import Reports
from infra.db.hire_summaries import COUNTED_FROM_ROWS, kept_counts
from infra.db.report_queries import SqlReportQueries, SqlRowReportQueries


def assert_summary_equals_the_rows(engine: sa.Engine, years: Iterable[int]) -> int:
    """hire_summaries equals the counts computed from hired_employees, and each report of each year read
    from it equals the same report counted from the rows; returns the hires the summary counts."""
    with engine.connect() as conn:
        # What the summary counts, the additions not yet folded included: it equals the rows at every commit.
        kept = sorted((*key, hired) for key, hired in kept_counts(conn).items())
        counted = sorted(map(tuple, conn.execute(COUNTED_FROM_ROWS)))
    assert kept == counted
    summary, rows = Reports(SqlReportQueries(engine)), Reports(SqlRowReportQueries(engine))
    for year in years:
        assert summary.hired_by_quarter(year) == rows.hired_by_quarter(year)
        assert summary.above_mean(year) == rows.above_mean(year)
    return sum(row[-1] for row in kept)
