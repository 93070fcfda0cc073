"""The two reports: the database counts (from a summary kept with the hires), the use case applies the
mean and the order."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from core.errors import InvalidRequest


class QuarterlyHires(NamedTuple):
    department: str
    job: str
    Q1: int
    Q2: int
    Q3: int
    Q4: int


class DepartmentHires(NamedTuple):
    id: int
    department: str
    hired: int


class ReportQueries(Protocol):
    def hires_by_quarter(self, year: int) -> list[QuarterlyHires]:
        """Counts per (department, job) with a hire in the year, one count per quarter; in any order."""

    def hires_per_department(self, year: int) -> list[DepartmentHires]:
        """Every department with its hires in the year (0 for none), read at one moment; in any order."""


class HireSummary(Protocol):
    def rebuild(self) -> dict[str, int]:
        """Replaces the summary the queries read with the counts of the rows, in one transaction; says how
        many summary rows there are now and how many were wrong (missing, extra or miscounted) before."""


def alphabetical(text: str) -> tuple[str, str]:
    """Case-insensitive by Unicode case folding, ties by the exact text: the same on every database."""
    return text.casefold(), text


def quarter_starts(year: int) -> list[datetime]:
    """The five boundaries of the year's quarters, in UTC; the last is the next year's start."""
    if not 1 <= year <= 9998:
        raise InvalidRequest(f"year {year} is out of range (1 to 9998)")
    return [datetime(year, month, 1) for month in (1, 4, 7, 10)] + [datetime(year + 1, 1, 1)]


@dataclass(frozen=True, slots=True)
class AboveMean:
    """Report 2 and the mean its rows are above, from one reading of the counts."""

    rows: list[dict[str, Any]]
    mean: float


class Reports:
    def __init__(self, queries: ReportQueries, summary: HireSummary | None = None) -> None:
        self._queries = queries
        self._summary = summary

    def hired_by_quarter(self, year: int) -> list[dict[str, Any]]:
        quarter_starts(year)  # the year's range is checked whichever way the counts are kept
        rows = self._queries.hires_by_quarter(year)
        # A few hundred names over a few thousand rows: each folded once.
        folded = {name: alphabetical(name) for name in {r.department for r in rows} | {r.job for r in rows}}
        rows.sort(key=lambda r: (folded[r.department], folded[r.job]))
        return [r._asdict() for r in rows]

    def hiring_above_average(self, year: int) -> list[dict[str, Any]]:
        return self.above_mean(year).rows

    def hiring_mean(self, year: int) -> float:
        """The mean report 2 compares with: the year's hires over all departments, one with none counting 0."""
        return self.above_mean(year).mean

    def above_mean(self, year: int) -> AboveMean:
        quarter_starts(year)
        counts = self._queries.hires_per_department(year)
        total, departments = sum(c.hired for c in counts), len(counts)
        # hired > total / departments, compared as hired * departments > total: exact in integers.
        rows = [c for c in counts if c.hired * departments > total]
        rows.sort(key=lambda r: (-r.hired, alphabetical(r.department)))
        return AboveMean([r._asdict() for r in rows], total / departments if departments else 0.0)

    def rebuild_summary(self) -> dict[str, int]:
        """The summary the reports read, rebuilt from the rows (`flask rebuild-summaries`)."""
        if self._summary is None:
            raise InvalidRequest("these reports are counted from the rows: there is no summary to rebuild")
        return self._summary.rebuild()
