"""Which quarter of which year a hire falls in: the key the reports count hires by."""
from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Sequence

_QUARTER_OF_MONTH = (0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4)
_QUARTER_OF_MONTH_TEXT = {f"{month:02d}": str(quarter) for month, quarter in enumerate(_QUARTER_OF_MONTH) if month}


def year_and_quarter(moment: datetime) -> tuple[int, int]:
    """The calendar year and its quarter (1 to 4) of a naive UTC moment, as the datetime column stores it."""
    return moment.year, _QUARTER_OF_MONTH[moment.month]


def years_and_quarters(moments: Sequence[datetime]) -> tuple[list[int], list[int]]:
    """year_and_quarter of each moment of a column, as two columns: years and quarters."""
    return [moment.year for moment in moments], [_QUARTER_OF_MONTH[moment.month] for moment in moments]


def years_and_quarters_as_texts(moments: Sequence[str]) -> tuple[list[str], list[str]]:
    """The same for naive UTC moments written `YYYY-MM-…` (ISO 8601, with no offset but Z), read off the text and
    left as texts: each year as the moment writes it, each quarter one digit."""
    return (list(map(itemgetter(slice(0, 4)), moments)),
            list(map(_QUARTER_OF_MONTH_TEXT.__getitem__, map(itemgetter(slice(5, 7)), moments))))
