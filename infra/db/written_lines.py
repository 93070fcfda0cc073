"""A batch's valid lines as the file wrote them, when they are already in a form a database takes as it is:
then no Python touches a row on its way in. Field by field: an id, a name with no quote or comma and nothing
to trim, a datetime in UTC. The rows' order of fields is the table's order of columns."""
from __future__ import annotations

import re
from functools import cache
from typing import Sequence

import sqlalchemy as sa

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


def as_mysql_values(table: sa.Table, lines: Sequence[str], backslash_escapes: bool, in_form: bool = False
                    ) -> str | None:
    """The lines as the VALUES of one INSERT for MariaDB/MySQL, or None when any line is not in that form
    (datetimes must be whole UTC seconds with a Z). Made by a few passes over the whole text, none a row:
    every field is quoted, numbers too (the server reads '7' into an INT column as 7), and a datetime loses
    its Z, which MariaDB does not take. A line in that form holds no control character and no double quote,
    so a quote and, where the server reads backslashes as escapes, a backslash are all that need escaping.
    `in_form`: the lines are known to be in the table's form (core.line_form), which is within this one."""
    text = "\n".join(lines)
    if not lines or not (in_form or _lines_of(table, _ZULU_SECONDS).fullmatch(text + "\n")):
        return None
    text, cut = _ZULU_END.subn("", text)
    if cut != len(lines) * _datetimes_in(table):  # a name that ends as a datetime does: written out instead
        return None
    text = text.replace("\\", "\\\\").replace("'", "\\'") if backslash_escapes else text.replace("'", "''")
    return "('" + text.replace(",", "','").replace("\n", "'),('") + "')"


# The Z that ends a datetime `…THH:MM:SSZ` where its field ends; the Z first, so that a search finds it fast.
_ZULU_END = re.compile("Z(?=,|\n|$)(?<=T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)")


@cache
def _datetimes_in(table: sa.Table) -> int:
    return sum(_kind(column) == "datetime" for column in table.c)
