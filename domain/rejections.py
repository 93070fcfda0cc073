"""A row that broke the rules, kept with everything needed to find and fix it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.tables import Table

MAX_RAW_LENGTH = 65_536  # characters of the raw text kept; a longer row says how long it was


def clip_raw(raw: str) -> str:
    if len(raw) <= MAX_RAW_LENGTH:
        return raw
    return f"{raw[:MAX_RAW_LENGTH]}…[{len(raw) - MAX_RAW_LENGTH} more characters not kept]"


@dataclass(frozen=True, slots=True)
class Rejection:
    table: Table
    source: str
    line_number: int
    raw: str
    reasons: tuple[str, ...]
    task_id: str
    rejected_at: datetime
    row_id: int | None = None  # the row's id when it had a valid one
