"""The two reports: the database counts, the use case fixes the year window and the order."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from core.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class QuarterlyHires:
    department: str
    job: str
    Q1: int
    Q2: int
    Q3: int
    Q4: int


@dataclass(frozen=True, slots=True)
class DepartmentHires:
    id: int
    department: str
    hired: int


class ReportQueries(Protocol):
    def hires_by_quarter(self, quarter_starts: list[datetime]) -> list[QuarterlyHires]:
        """Counts per (department, job) with a hire in [starts[0], starts[4]), one count per quarter."""

    def departments_above_mean(self, start: datetime, end: datetime) -> list[DepartmentHires]:
        """Departments whose hires in [start, end) exceed the mean over all departments."""

    def hires_and_departments(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Hires in [start, end) and the number of departments: the two terms of report 2's mean."""


def alphabetical(text: str) -> tuple[str, str]:
    """Case-insensitive by Unicode case folding, ties by the exact text: the same on every database."""
    return text.casefold(), text


def quarter_starts(year: int) -> list[datetime]:
    """The five boundaries of the year's quarters, in UTC; the last is the next year's start."""
    if not 1 <= year <= 9998:
        raise InvalidRequest(f"year {year} is out of range (1 to 9998)")
    return [datetime(year, month, 1) for month in (1, 4, 7, 10)] + [datetime(year + 1, 1, 1)]


class Reports:
    def __init__(self, queries: ReportQueries) -> None:
        self._queries = queries

    def hired_by_quarter(self, year: int) -> list[dict[str, Any]]:
        rows = self._queries.hires_by_quarter(quarter_starts(year))
        rows.sort(key=lambda r: (alphabetical(r.department), alphabetical(r.job)))
        return [asdict(r) for r in rows]

    def hiring_above_average(self, year: int) -> list[dict[str, Any]]:
        starts = quarter_starts(year)
        rows = self._queries.departments_above_mean(starts[0], starts[-1])
        rows.sort(key=lambda r: (-r.hired, alphabetical(r.department)))
        return [asdict(r) for r in rows]

    def hiring_mean(self, year: int) -> float:
        """The mean report 2 compares with: the year's hires over all departments, one with none counting 0."""
        starts = quarter_starts(year)
        hires, departments = self._queries.hires_and_departments(starts[0], starts[-1])
        return hires / departments if departments else 0.0
