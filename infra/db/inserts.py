"""Insert the rows whose id is not there yet and say how many went in: each dialect its own way."""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import StoreUnavailable

# Bound parameters one statement may carry, per dialect (SQL Server stops at 2100).
_MAX_PARAMS = {"postgresql": 65_000, "sqlite": 32_000, "mysql": 60_000, "mariadb": 60_000}
_DEFAULT_MAX_PARAMS = 2_000


class ConcurrentWrite(StoreUnavailable):
    """Another writer changed the rows under this batch; running the batch again resolves it."""


def insert_new_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple]) -> int:
    """Inserts the rows whose id is absent, leaving present ones as they are; returns the count inserted."""
    if not rows:
        return 0
    keys = table.c.keys()
    dialect = conn.dialect.name
    per_statement = rows_per_statement(dialect, table)
    inserted = 0
    for start in range(0, len(rows), per_statement):
        records = [dict(zip(keys, row)) for row in rows[start:start + per_statement]]
        inserted += _INSERTERS.get(dialect, _insert_where_absent)(conn, table, records)
    return inserted


def rows_per_statement(dialect: str, table: sa.Table) -> int:
    """As many rows as one statement can carry within the dialect's limit of bound parameters."""
    return max(1, _MAX_PARAMS.get(dialect, _DEFAULT_MAX_PARAMS) // len(table.c))


def _insert_on_conflict(insert):
    def run(conn: sa.Connection, table: sa.Table, records: list[dict]) -> int:
        # RETURNING counts exactly the rows that went in; rowcount is not reliable for every driver.
        # Records go as parameters, not literal VALUES, so the statement compiles once and is cached.
        statement = insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
        return len(conn.execute(statement, records).all())
    return run


def _insert_ignore(conn: sa.Connection, table: sa.Table, records: list[dict]) -> int:
    # INSERT IGNORE also turns a foreign-key failure into a skipped row, so the count is checked
    # against the ids seen in this same transaction: a mismatch fails the batch, which is retried.
    ids = [r["id"] for r in records]
    present = conn.execute(sa.select(sa.func.count()).where(table.c.id.in_(ids))).scalar_one()
    inserted = conn.execute(mysql_insert(table).prefix_with("IGNORE"), records).rowcount
    if inserted + present != len(records):
        missing = len(records) - inserted - present
        raise ConcurrentWrite(f"{missing} rows of {table.name} were neither inserted nor present")
    return inserted


def _insert_where_absent(conn: sa.Connection, table: sa.Table, records: list[dict]) -> int:
    return conn.execute(insert_where_absent(table, records)).rowcount


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
