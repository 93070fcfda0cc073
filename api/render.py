"""Report rows rendered for people and spreadsheets: CSV and an aligned text table."""
from __future__ import annotations

import csv
import io
from typing import Any, Sequence

# A spreadsheet runs a cell that starts with one of these as a formula: a department or job named
# "=HYPERLINK(…)" would become a link, or worse, in whoever opens the report (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would evaluate, kept as text by a leading apostrophe; numbers as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[c]) for c in columns] for row in rows)
    return out.getvalue()


def to_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [list(columns)] + [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


REPORT_COLUMNS = {
    "hired-by-quarter": ("department", "job", "Q1", "Q2", "Q3", "Q4"),
    "hiring-above-average": ("id", "department", "hired"),
}
