"""The statement that writes a PostgreSQL batch's new rows: the rows go as one text, which the server cuts
into lines and fields and casts to the columns' types (the input functions COPY would use), and an INSERT …
SELECT of those whose id is not in the table yet. It answers the count it inserted; for hired_employees the
same statement appends the inserted rows to the reports' summary (infra.db.hire_summaries).

The text is the batch's lines as the file wrote them when each is already a plain row of the table (an id,
a name with no comma or quote and nothing to trim, a datetime in UTC: infra.db.written_lines). Else the
typed rows are written out by the csv module, their fields parted by the unit separator and the rows by the
record separator: control characters no valid field holds (domain.rules), so no value needs quoting."""
from __future__ import annotations

import csv
import io
from functools import cache
from typing import Sequence

import sqlalchemy as sa

from core.line_form import LineRows, ids_of
from infra.db.bulk import dense_range, int_array, pg_type
from infra.db.written_lines import plain_text

_UNIT, _RECORD = "\x1f", "\x1e"


def new_rows_statement(table: sa.Table, rows: Sequence[tuple], lines: Sequence[str],
                       added: str | None) -> tuple[str, dict]:
    """The statement and its parameters: inserts those of the rows (their `lines` as the file wrote them, if
    any) whose id is absent and answers one row, the count inserted. `added` is the statement, if any, that
    takes the inserted rows (as `new`) into the summary. Rows of lines in the table's form (core.line_form)
    are not read: their lines are the table's CSV as they stand. Rows another writer inserted after this
    statement's snapshot fail it on the primary key, as a COPY would."""
    if isinstance(rows, LineRows):
        text, fields_apart, rows_apart = "\n".join(rows.lines), ",", "\n"
    else:
        text, fields_apart, rows_apart = _as_text(table, rows, lines)
    ids = ids_of(rows)
    params = {"text": text, "fields_apart": fields_apart, "rows_apart": rows_apart}
    if span := dense_range(ids):  # the usual batch: one range scan, mostly empty
        params["low"], params["high"] = span
    else:
        params["ids"] = int_array(ids)
    return _statement(table, span is not None, added), params


def _as_text(table: sa.Table, rows: Sequence[tuple], lines: Sequence[str]) -> tuple[str, str, str]:
    """The rows as one text, and what parts two fields and two rows in it: their lines when the file wrote
    them plainly, else written out here."""
    if len(lines) == len(rows) and (text := plain_text(table, lines)) is not None:
        return text, ",", "\n"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=_UNIT, lineterminator=_RECORD, quoting=csv.QUOTE_NONE, quotechar=None).writerows(rows)
    return buffer.getvalue()[:-1], _UNIT, _RECORD


@cache
def _statement(table: sa.Table, dense: bool, added: str | None) -> str:
    names = ", ".join(f'"{column.name}"' for column in table.c)
    fields = ", ".join(f"split_part(line, %(fields_apart)s, {n}){_cast(column)}"
                       for n, column in enumerate(table.c, start=1))
    kind = pg_type(table.c.id)
    where = "id BETWEEN %(low)s AND %(high)s" if dense else f"id = ANY(ARRAY(SELECT unnest(%(ids)s::{kind}[])))"
    incoming = f"SELECT {fields} FROM unnest(string_to_array(%(text)s, %(rows_apart)s)) AS line"
    # The inserted rows are returned only where the summary takes them.
    new = (f'new AS (INSERT INTO "{table.name}" ({names}) SELECT * FROM ({incoming}) AS incoming ({names}) '
           f'WHERE id NOT IN (SELECT id FROM "{table.name}" WHERE {where}) RETURNING {"*" if added else "id"})')
    return f"WITH {new}{f', added AS ({added})' if added else ''} SELECT count(*) FROM new"


def _cast(column: sa.Column) -> str:
    return "" if isinstance(column.type, sa.String) else f"::{pg_type(column)}"
