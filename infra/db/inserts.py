"""Insert the rows whose id is not there yet and say how many went in: each dialect its own way."""
from __future__ import annotations

from contextlib import contextmanager
from operator import itemgetter
from typing import Callable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import StoreUnavailable
from core.line_form import LineRows, ids_of, keys_of
from infra.db.written_lines import as_mysql_values

# Bound parameters one statement may carry, per dialect (SQL Server stops at 2100).
_MAX_PARAMS = {"postgresql": 65_000, "sqlite": 32_000, "mysql": 60_000, "mariadb": 60_000}
_DEFAULT_MAX_PARAMS = 2_000


class ConcurrentWrite(StoreUnavailable):
    """Another writer changed the rows under this batch; running the batch again resolves it."""


def insert_new_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple], lines: Sequence[str] = ()) -> int:
    """Inserts the rows whose id is absent, leaving present ones as they are; returns the count inserted.
    `lines`, each row as its input wrote it, may spare writing the rows out again (MariaDB)."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    per_statement = rows_per_statement(dialect, table)
    if len(lines) != len(rows):
        lines = ()
    insert = _INSERTERS.get(dialect, _insert_where_absent)
    if len(rows) <= per_statement:  # whole: rows of lines in the form (core.line_form) stay unread
        return insert(conn, table, rows, lines)
    inserted = 0
    for start in range(0, len(rows), per_statement):
        end = start + per_statement
        inserted += insert(conn, table, rows[start:end], lines[start:end])
    return inserted


def _records(table: sa.Table, rows: Sequence[tuple]) -> list[dict]:
    keys = table.c.keys()
    return [dict(zip(keys, row)) for row in rows]


def rows_per_statement(dialect: str, table: sa.Table) -> int:
    """As many rows as one statement can carry within the dialect's limit of bound parameters."""
    return max(1, _MAX_PARAMS.get(dialect, _DEFAULT_MAX_PARAMS) // len(table.c))


def _insert_on_conflict(insert):
    def run(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple], _lines: Sequence[str] = ()) -> int:
        # RETURNING counts exactly the rows that went in; rowcount is not reliable for every driver.
        # Records go as parameters, not literal VALUES, so the statement compiles once and is cached.
        statement = insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
        return len(conn.execute(statement, _records(table, rows)).all())
    return run


def _mysql_literal(column: sa.Column, quote: Callable[[str], str]) -> Callable[[object], str]:
    if isinstance(column.type, sa.Integer):
        return lambda value: str(int(value))
    if isinstance(column.type, sa.DateTime):
        return lambda value: "'" + value.isoformat(" ") + "'"
    if isinstance(column.type, sa.String):
        return quote
    raise TypeError(f"no literal for {column.table.name}.{column.name} ({column.type})")


def _insert_ignore(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple], lines: Sequence[str] = ()) -> int:
    """One multi-row `INSERT IGNORE` written as literals: from the input's own lines when they are already
    in that form (infra.db.written_lines), else from the typed values (ints, datetimes, text the driver
    escapes for the server's quoting mode); binding them as parameters went through a dispatch per value.

    On MariaDB the parents the rows name are locked and counted first (_hold_parents), and the insert runs
    without InnoDB's per-row foreign-key checks, which looked each parent up again for every row: then a
    row it skips can only be one whose id is there. Where the checks run (MySQL), INSERT IGNORE also turns a
    foreign-key failure into a skipped row, so the count is checked against the ids present in this same
    transaction: a mismatch fails the batch, which is retried."""
    driver = conn.connection.driver_connection
    # The driver escapes for the server's quoting mode: what it makes of one backslash tells the mode.
    in_form = isinstance(rows, LineRows)
    values = as_mysql_values(table, rows.lines if in_form else lines,
                             backslash_escapes=driver.escape("\\") != "'\\'", in_form=in_form)
    if values is None:
        literals = [_mysql_literal(column, driver.escape) for column in table.c]
        values = ",".join(["(" + ",".join([literal(value) if value is not None else "NULL"
                                           for literal, value in zip(literals, row)]) + ")" for row in rows])
    names = ",".join(f"`{column.name}`" for column in table.c)
    unchecked = conn.dialect.is_mariadb
    with _wrapped_errors(conn), driver.cursor() as cursor:  # no parameters: the driver sends the text as it is
        if unchecked:
            _hold_parents(cursor, table, rows)
        else:
            ids = ",".join(map(str, ids_of(rows)))  # ints the rules parsed: no escaping needed
            cursor.execute(f"SELECT COUNT(*) FROM `{table.name}` WHERE id IN ({ids})")
            present = cursor.fetchone()[0]
        inserted = cursor.execute(f"{'SET STATEMENT foreign_key_checks = 0 FOR ' if unchecked else ''}"
                                  f"INSERT IGNORE INTO `{table.name}` ({names}) VALUES {values}")
    if not unchecked and inserted + present != len(rows):
        raise ConcurrentWrite(f"{len(rows) - inserted - present} rows of {table.name} were neither inserted "
                              "nor present")
    return inserted


@contextmanager
def _wrapped_errors(conn: sa.Connection) -> Iterator[None]:
    """The driver's own errors as SQLAlchemy's, as its cursors are used here directly: a lock wait timed out or a
    deadlock is then an OperationalError, which the store takes for a retryable failure like any other."""
    try:
        yield
    except conn.dialect.loaded_dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(None, None, error, conn.dialect.loaded_dbapi.Error) from error


def parents_named(table: sa.Table, rows: Sequence[tuple]) -> list[tuple[sa.Column, list[int]]]:
    """Each parent key the rows reference and the ids they name of it, in order: what a batch locks (as the
    foreign-key check of each row would) before it writes without those checks."""
    if (keys := keys_of(rows)) is not None:
        named = [(fk.column, keys.parents[fk.parent.key]) for fk in table.foreign_keys]
    else:
        named = [(fk.column, sorted(set(map(itemgetter(table.c.keys().index(fk.parent.key)), rows)) - {None}))
                 for fk in table.foreign_keys]
    return [(key, wanted) for key, wanted in named if wanted]


def require_parents(table: sa.Table, named: list[tuple[sa.Column, list[int]]], found: Sequence[int]) -> None:
    """ConcurrentWrite (retried, validated afresh) unless the lock found every parent named: one was deleted
    after validation."""
    for (key, wanted), count in zip(named, found, strict=True):
        if count != len(wanted):
            raise ConcurrentWrite(f"{len(wanted) - count} {key.table.name} rows this batch of {table.name} "
                                  "names were deleted after validation")


def _hold_parents(cursor, table: sa.Table, rows: Sequence[tuple]) -> None:
    """MariaDB: a shared lock on every parent row the batch names, counted in one statement: no parent can be
    deleted before the batch commits."""
    if not (named := parents_named(table, rows)):
        return
    cursor.execute(" UNION ALL ".join(  # each count tagged with its place: UNION ALL promises no order
        f"(SELECT {n}, COUNT(*) FROM `{key.table.name}` WHERE `{key.name}` IN ({','.join(map(str, wanted))}) "
        "LOCK IN SHARE MODE)" for n, (key, wanted) in enumerate(named)))
    found = dict(cursor.fetchall())
    require_parents(table, named, [found[n] for n in range(len(named))])


def _insert_where_absent(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple],
                         _lines: Sequence[str] = ()) -> int:
    return conn.execute(insert_where_absent(table, _records(table, rows))).rowcount


def insert_where_absent(table: sa.Table, records: list[dict]) -> sa.Insert:
    """Portable form (SQL Server): INSERT … SELECT FROM (VALUES …) WHERE NOT EXISTS.
    Built without a connection, so it can be compiled for a database that is not there."""
    keys = table.c.keys()
    incoming = sa.values(*[sa.column(k, table.c[k].type) for k in keys], name="incoming").data(
        [tuple(r[k] for k in keys) for r in records])
    absent = ~sa.exists().where(table.c.id == incoming.c.id)
    return table.insert().from_select(keys, sa.select(incoming).where(absent))


_INSERTERS = {
    "postgresql": _insert_on_conflict(pg_insert),
    "sqlite": _insert_on_conflict(sqlite_insert),
    "mysql": _insert_ignore,
    "mariadb": _insert_ignore,
}
