"""A rejected row as the `rejected_rows` table keeps it."""
from __future__ import annotations

import json
from typing import Any

from domain.rejections import Rejection

REJECTION_COLUMNS = ("table_name", "source", "line_number", "raw_text", "reasons", "task_id", "rejected_at", "fields")


def rejection_values(rejection: Rejection) -> tuple:
    """The row as values in REJECTION_COLUMNS' order, reasons as JSON text: for a driver's own path."""
    return (rejection.table.value, rejection.source[:255], rejection.line_number, rejection.raw,
            json.dumps(list(rejection.reasons), ensure_ascii=False), rejection.task_id, rejection.rejected_at,
            # JSON's null where there are no fields, as SQLAlchemy's JSON type writes None: one form on every path.
            json.dumps(None if rejection.fields is None else list(rejection.fields), ensure_ascii=False))


def rejection_row(rejection: Rejection) -> dict[str, Any]:
    """The same row for SQLAlchemy, whose JSON column takes the reasons as a list."""
    return {**dict(zip(REJECTION_COLUMNS, rejection_values(rejection))), "reasons": list(rejection.reasons),
            "fields": None if rejection.fields is None else list(rejection.fields)}
