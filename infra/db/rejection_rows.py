"""A rejected row as the `rejected_rows` table keeps it."""
from __future__ import annotations

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
