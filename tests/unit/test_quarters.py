"""The quarter a hire counts in: the key of the reports' summary."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.reports import quarter_starts
from domain.quarters import year_and_quarter, years_and_quarters


@pytest.mark.parametrize("year", [1, 2021, 9998])
def test_each_quarter_runs_from_its_start_to_the_moment_before_the_next(year):
    starts = quarter_starts(year)
    for quarter in range(4):
        assert year_and_quarter(starts[quarter]) == (year, quarter + 1)
        assert year_and_quarter(starts[quarter + 1] - timedelta(microseconds=1)) == (year, quarter + 1)
    assert year_and_quarter(starts[4]) == (year + 1, 1)


def test_every_month_falls_in_the_quarter_of_its_three():
    assert [year_and_quarter(datetime(2021, month, 15))[1] for month in range(1, 13)] == [
        1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]


def test_a_column_of_moments_gives_each_moments_year_and_quarter():
    moments = [datetime(2021, month, 1) - timedelta(microseconds=1) for month in range(1, 13)]
    years, quarters = years_and_quarters(moments)
    assert list(zip(years, quarters)) == [year_and_quarter(moment) for moment in moments]
    assert years_and_quarters([]) == ([], [])
