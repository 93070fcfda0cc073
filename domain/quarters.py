"""Which quarter of which year a hire falls in: the key the reports count hires by."""
from __future__ import annotations

from datetime import datetime


def year_and_quarter(moment: datetime) -> tuple[int, int]:
    """The calendar year and its quarter (1 to 4) of a naive UTC moment, as the datetime column stores it."""
    return moment.year, (moment.month + 2) // 3
