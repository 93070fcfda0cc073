"""The rejected rows of one table as a CSV file to fix in a spreadsheet and upload again as it is.

A row's cells are the table's columns as the row sent them (split where its line was read into them, else
its whole raw text in the first column), then the columns core.header_mapping leaves out when the file comes
back: line_number, reasons (joined with `; `) and rejection_id, which says which logged row the fixed one
resolves. No spreadsheet-formula guard (api.render has one for the reports): the file exists to come back
unchanged, and a leading apostrophe would come back as part of a name."""
from __future__ import annotations

import csv
import io
from typing import Iterator

from core.errors import InvalidRequest
from core.header_mapping import EXPORT_COLUMNS
from core.rejection_log import LoggedRejection, RejectionLog
from domain.log_text import unescaped
from domain.rules import RULES
from domain.tables import Table

PAGE = 1000
# A spreadsheet opens a CSV as UTF-8 only when it starts with a byte order mark; the loader passes it over.
BOM = "\ufeff"


def _cell(text: str) -> str:
    """The text as sent; kept in the log's escaped form when it holds what no UTF-8 file can (a byte
    that was not UTF-8, a lone surrogate)."""
    plain = unescaped(text)
    try:
        plain.encode("utf-8")
    except UnicodeEncodeError:
        return text
    return plain


def _cells(logged: LoggedRejection, count: int) -> list:
    if logged.fields is not None and len(logged.fields) == count:
        cells = list(map(_cell, logged.fields))
    else:
        cells = [_cell(logged.raw)] + [""] * (count - 1)
    return [*cells, logged.line_number, "; ".join(map(_cell, logged.reasons)), logged.id]


class RejectionExport:
    def __init__(self, log: RejectionLog) -> None:
        self._log = log

    def table_of(self, table: Table | None, task_id: str | None) -> Table:
        """The one table an export is of: named, or the only one the task loaded."""
        if table is not None:
            return table
        if task_id is None:
            raise InvalidRequest("name the table (table=) of the rejected rows to export")
        tables = self._log.tables(task_id)
        if len(tables) != 1:
            loaded = ", ".join(t.value for t in tables) or "none"
            raise InvalidRequest(f"task {task_id} loaded {len(tables) or 'no'} tables ({loaded}): name one with table=")
        return tables[0]

    def columns(self, table: Table) -> list[str]:
        return [*RULES[table].names, *EXPORT_COLUMNS]

    def csv(self, table: Table, task_id: str | None, resolved: bool | None = False) -> Iterator[str]:
        """The file in pieces, a page of rows each, header first: streamed, however many rows there are."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns(table))
        yield BOM + out.getvalue()
        count, after = len(RULES[table].names), 0
        while page := self._log.logged(table, task_id, resolved, after, PAGE):
            out.seek(0)
            out.truncate()
            writer.writerows(_cells(logged, count) for logged in page)
            yield out.getvalue()
            after = page[-1].id
