"""A rejected row as the `rejected_rows` table keeps it."""
from __future__ import annotations

import json
from typing import Any

from domain.rejections import Rejection


def rejection_row(rejection: Rejection) -> dict[str, Any]:
    return {
        "table_name": rejection.table.value,
        "source": rejection.source[:255],
        "line_number": rejection.line_number,
        "raw_text": rejection.raw,
        "reasons": list(rejection.reasons),
        "task_id": rejection.task_id,
        "rejected_at": rejection.rejected_at,
    }


REJECTION_COLUMNS = ("table_name", "source", "line_number", "raw_text", "reasons", "task_id", "rejected_at")


def rejection_values(rejection: Rejection) -> tuple:
    """The same row as values in REJECTION_COLUMNS' order, reasons as JSON text: for a COPY."""
    return (rejection.table.value, rejection.source[:255], rejection.line_number, rejection.raw,
            json.dumps(list(rejection.reasons), ensure_ascii=False), rejection.task_id, rejection.rejected_at)
