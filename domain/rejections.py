"""A row that broke the rules, kept with everything needed to find and fix it."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.log_text import MAX_LOGGED_BYTES, escaped, escaped_each, logged
from domain.tables import Table


@dataclass(frozen=True, slots=True)
class Rejection:
    """As the log keeps it: the raw text and the reasons in the escaped form of domain.log_text, which
    every database accepts whatever the line held (see `rejection`)."""

    table: Table
    source: str
    line_number: int
    raw: str
    reasons: tuple[str, ...]
    task_id: str
    rejected_at: datetime
    row_id: int | None = None  # the row's id when it had a valid one
    # Its fields in the table's order, escaped as the raw text is, when the line was read into the table's
    # number of fields: what the rejections export shows, and what a replay checks again.
    fields: tuple[str, ...] | None = None

    def with_raw(self, raw: str) -> Rejection:
        """The same rejection with this raw text, escaped (and clipped, with a reason that says so)."""
        text, clipped = logged(raw)
        return replace(self, raw=text, reasons=self.reasons + ((clipped,) if clipped else ()))


def rejection(table: Table, source: str, line_number: int, raw: str, reasons, task_id: str,
              rejected_at: datetime, row_id: int | None = None, fields: list[str] | None = None) -> Rejection:
    """A rejected row with its raw text, reasons and fields as they are, escaped for the log."""
    text, clipped = logged(raw)
    return Rejection(table, source, line_number, text, tuple(map(escaped, reasons)) + ((clipped,) if clipped else ()),
                     task_id, rejected_at, row_id, _logged_fields(fields))


def _logged_fields(fields: list[str] | None) -> tuple[str, ...] | None:
    """The fields escaped; none when they would not fit where the raw text fits (the row cannot be valid)."""
    if not fields:
        return None
    kept = escaped_each(fields)
    return kept if sum(map(len, kept)) * 4 <= MAX_LOGGED_BYTES else None
