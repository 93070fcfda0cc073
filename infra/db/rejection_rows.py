"""A rejected row as the `rejected_rows` table keeps it."""
from __future__ import annotations

import json
from typing import Any, Sequence

from domain.rejections import Rejection

REJECTION_COLUMNS = ("table_name", "source", "line_number", "raw_text", "reasons", "task_id", "rejected_at", "fields")


def rejection_values(rejection: Rejection) -> tuple:
    """The row as values in REJECTION_COLUMNS' order, reasons as JSON text: for a driver's own path."""
    return (rejection.table.value, rejection.source[:255], rejection.line_number, rejection.raw,
            json.dumps(list(rejection.reasons), ensure_ascii=False), rejection.task_id, rejection.rejected_at,
            # JSON's null where there are no fields, as SQLAlchemy's JSON type writes None: one form on every path.
            json.dumps(None if rejection.fields is None else list(rejection.fields), ensure_ascii=False))


def rejections_as_json(rejections: Sequence[Rejection]) -> str:
    """The rows as one JSON array of objects keyed by column (reasons and fields as JSON arrays, or null):
    one text a batch, made by the json module in C, for PostgreSQL's json_populate_recordset."""
    return json.dumps([{"table_name": r.table.value, "source": r.source[:255], "line_number": r.line_number,
                        "raw_text": r.raw, "reasons": r.reasons, "task_id": r.task_id,
                        "rejected_at": r.rejected_at.isoformat(), "fields": r.fields} for r in rejections],
                      ensure_ascii=False)


def rejection_row(rejection: Rejection) -> dict[str, Any]:
    """The same row for SQLAlchemy, whose JSON column takes the reasons as a list."""
    return {**dict(zip(REJECTION_COLUMNS, rejection_values(rejection))), "reasons": list(rejection.reasons),
            "fields": None if rejection.fields is None else list(rejection.fields)}


def rejections_as_json_rows(rejections: Sequence[Rejection]) -> str:
    """The rows as one JSON array of arrays, each rejection_values' row (the datetime as SQL's text): one text a
    batch, made by the json module in C, for MariaDB's JSON_TABLE, which takes scalars only (so the reasons and
    fields go as the JSON texts the column keeps)."""
    return json.dumps([(*values[:6], values[6].isoformat(" "), values[7])
                       for values in map(rejection_values, rejections)], ensure_ascii=False)
