"""A batch's valid lines as the file wrote them, when they are already in a form a database takes as it is:
then no Python touches a row on its way in. Field by field: an id, a name with no quote or comma and nothing
to trim, a datetime in UTC. The rows' order of fields is the table's order of columns."""
from __future__ import annotations

import re
from functools import cache
from operator import methodcaller
from typing import Sequence

import sqlalchemy as sa

_split_fields = methodcaller("split", ",")
_ID = "[0-9]+"
_NAME = '[^,"\\s\x00-\x1f\x7f](?:[^,"\x00-\x1f\x7f]*[^,"\\s\x00-\x1f\x7f])?'  # nothing to trim, no control
# PostgreSQL's timestamp input ignores a Z for a column without time zone; a row whose datetime has another
# offset is written out again, converted.
_ANY_UTC_MOMENT = "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,6})?Z?"
_ZULU_SECONDS = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


def _kind(column: sa.Column) -> str:
    if isinstance(column.type, sa.DateTime):
        return "datetime"
    return "id" if isinstance(column.type, sa.Integer) else "text"


@cache
def _lines_of(table: sa.Table, moment: str) -> re.Pattern[str]:
    forms = {"id": _ID, "text": _NAME, "datetime": moment}
    return re.compile("(?:" + ",".join(forms[_kind(column)] for column in table.c) + "\n)*")


def plain_text(table: sa.Table, lines: Sequence[str]) -> str | None:
    """The lines as one text, one a line, for PostgreSQL to cut at each comma (infra.db.postgres_insert), or
    None when any line is not in that form."""
    text = "\n".join(lines)
    return text if lines and _lines_of(table, _ANY_UTC_MOMENT).fullmatch(text + "\n") else None


@cache
def _values_format(table: sa.Table) -> str:
    # A datetime of the form `YYYY-MM-DDTHH:MM:SSZ` is cut to its first 19 characters: MariaDB takes the T,
    # not the Z.
    return "(" + ",".join({"id": "%s", "text": "'%s'", "datetime": "'%.19s'"}[_kind(column)]
                          for column in table.c) + ")"


def as_mysql_values(table: sa.Table, lines: Sequence[str], backslash_escapes: bool) -> str | None:
    """The lines as the VALUES of one INSERT for MariaDB/MySQL, or None when any line is not in that form
    (datetimes must be whole UTC seconds with a Z). A line in that form holds no control character and no
    double quote, so a quote and, where the server reads backslashes as escapes, a backslash are all that
    need escaping: the whole text at once."""
    text = "\n".join(lines)
    if not lines or not _lines_of(table, _ZULU_SECONDS).fullmatch(text + "\n"):
        return None
    text = text.replace("\\", "\\\\").replace("'", "\\'") if backslash_escapes else text.replace("'", "''")
    values = _values_format(table)
    return ",".join(map(values.__mod__, map(tuple, map(_split_fields, text.split("\n")))))
