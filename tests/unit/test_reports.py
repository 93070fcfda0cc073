"""The two reports over a fake of the queries: the year window in UTC, and the order rows come out in."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.errors import InvalidRequest
from core.reports import Reports, alphabetical, quarter_starts
from domain.entities import Department, Employee, Job
from domain.tables import Table
from tests.unit.fakes import FakeHireSummary, FakeReportQueries

D, J, E = Table.DEPARTMENTS, Table.JOBS, Table.HIRED_EMPLOYEES


@pytest.fixture
def reports(store) -> Reports:
    return Reports(FakeReportQueries(store))


def hire(store, id_: int, moment: datetime, department_id: int = 1, job_id: int = 1) -> None:
    store.add(E, Employee(id_, f"Person {id_}", moment, department_id, job_id))


def test_quarter_starts_are_the_quarter_boundaries_and_next_new_year():
    assert quarter_starts(2021) == [datetime(2021, 1, 1), datetime(2021, 4, 1), datetime(2021, 7, 1),
                                    datetime(2021, 10, 1), datetime(2022, 1, 1)]


@pytest.mark.parametrize("year", [1, 9998])
def test_quarter_starts_at_the_ends_of_the_calendar(year):
    assert quarter_starts(year)[-1] == datetime(year + 1, 1, 1)


@pytest.mark.parametrize("year", [0, -1, 9999, 10000])
def test_year_outside_the_calendar_is_an_invalid_request(year, reports):
    with pytest.raises(InvalidRequest, match=f"year {year} is out of range"):
        reports.hired_by_quarter(year)
    with pytest.raises(InvalidRequest):
        reports.hiring_above_average(year)


def test_alphabetical_is_case_folded_then_exact():
    names = ["GIS Technical Architect", "legal", "General Manager", "Legal", "straße", "STRASSE", "Zoo"]
    assert sorted(names, key=alphabetical) == [
        "General Manager", "GIS Technical Architect", "Legal", "legal", "STRASSE", "straße", "Zoo"]


def test_hired_by_quarter_counts_each_quarter_of_the_year(parents, reports):
    for id_, moment in enumerate([datetime(2021, 1, 1), datetime(2021, 3, 31, 23, 59, 59), datetime(2021, 4, 1),
                                  datetime(2021, 12, 31, 23, 59, 59), datetime(2022, 1, 1),
                                  datetime(2020, 12, 31, 23, 59, 59)], start=1):
        hire(parents, id_, moment)
    assert reports.hired_by_quarter(2021) == [
        {"department": "Department 1", "job": "Job 1", "Q1": 2, "Q2": 1, "Q3": 0, "Q4": 1}]


def test_hired_by_quarter_is_ordered_by_department_then_job_case_folded(store, reports):
    store.add(D, Department(1, "sales"), Department(2, "Accounting"), Department(3, "Sales"))
    store.add(J, Job(1, "GIS Technical Architect"), Job(2, "General Manager"), Job(3, "analyst"))
    for id_, (dep, job) in enumerate([(1, 1), (3, 1), (2, 1), (2, 3), (2, 2), (3, 2)], start=1):
        hire(store, id_, datetime(2021, 5, 1), dep, job)
    assert [(r["department"], r["job"]) for r in reports.hired_by_quarter(2021)] == [
        ("Accounting", "analyst"), ("Accounting", "General Manager"), ("Accounting", "GIS Technical Architect"),
        ("Sales", "General Manager"), ("Sales", "GIS Technical Architect"), ("sales", "GIS Technical Architect")]


def test_hire_moved_into_another_year_by_its_offset_counts_in_that_year(load, parents, reports):
    load(E, "1,Ana,2021-12-31T23:30:00-01:00,1,1\n2,Bea,2021-03-31T23:30:00-02:00,1,1\n")
    assert reports.hired_by_quarter(2021) == [
        {"department": "Department 1", "job": "Job 1", "Q1": 0, "Q2": 1, "Q3": 0, "Q4": 0}]
    assert reports.hired_by_quarter(2022) == [
        {"department": "Department 1", "job": "Job 1", "Q1": 1, "Q2": 0, "Q3": 0, "Q4": 0}]


def test_report_2_and_its_mean_come_from_one_reading_of_the_counts(store):
    queries = FakeReportQueries(store)
    Reports(queries).above_mean(2021)
    assert queries.calls == [("hires_per_department", 2021)]


def test_a_hire_on_a_quarters_first_and_last_moment_counts_in_that_quarter(parents, reports):
    starts = quarter_starts(2021)
    for quarter in range(4):
        hire(parents, 2 * quarter + 1, starts[quarter])
        hire(parents, 2 * quarter + 2, starts[quarter + 1] - timedelta(microseconds=1))
    assert reports.hired_by_quarter(2021) == [
        {"department": "Department 1", "job": "Job 1", "Q1": 2, "Q2": 2, "Q3": 2, "Q4": 2}]


def test_hiring_above_average_is_ordered_by_hires_then_department(store, reports):
    store.add(D, Department(1, "sales"), Department(2, "Legal"), Department(3, "Accounting"),
              Department(4, "Sales"), Department(5, "Quiet"), Department(6, "Silent"))
    store.add(J, Job(1, "Nurse"))
    hires = {1: 3, 2: 3, 3: 2, 4: 3, 5: 0, 6: 0}  # mean 11/6: departments with 2 or more are above it
    next_id = 1
    for department_id, count in hires.items():
        for _ in range(count):
            hire(store, next_id, datetime(2021, 8, 1), department_id)
            next_id += 1
    hire(store, next_id, datetime(2022, 1, 1), 5)  # next year: not counted
    assert reports.hiring_above_average(2021) == [
        {"id": 2, "department": "Legal", "hired": 3}, {"id": 4, "department": "Sales", "hired": 3},
        {"id": 1, "department": "sales", "hired": 3}, {"id": 3, "department": "Accounting", "hired": 2}]


def test_hiring_mean_counts_departments_without_hires_as_zero(store, reports):
    store.add(D, Department(1, "Legal"), Department(2, "Quiet"), Department(3, "Silent"))
    store.add(J, Job(1, "Nurse"))
    for id_ in (1, 2):
        hire(store, id_, datetime(2021, 8, 1), 1)
    hire(store, 3, datetime(2022, 1, 1), 2)  # next year: not counted
    assert reports.hiring_mean(2021) == 2 / 3
    assert reports.hiring_mean(2023) == 0.0


def test_hiring_mean_without_departments_is_zero(store, reports):
    assert reports.hiring_mean(2021) == 0.0


def test_rebuild_summary_asks_the_summary_once(store):
    summary = FakeHireSummary()
    assert Reports(FakeReportQueries(store), summary).rebuild_summary() == {"rows": 0, "corrected": 0}
    assert summary.rebuilds == 1


def test_reports_counted_from_the_rows_have_no_summary_to_rebuild(reports):
    with pytest.raises(InvalidRequest, match="no summary to rebuild"):
        reports.rebuild_summary()
