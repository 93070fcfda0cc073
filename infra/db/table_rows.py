"""The RowSource port: a table's rows streamed in id order, a chunk at a time (server-side cursor)."""
from __future__ import annotations

from typing import Iterator, Sequence

import sqlalchemy as sa

from domain.tables import Table
from infra.db.failures import unavailable_on_failure
from infra.db.schema import TABLES


class SqlTableRows:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def chunks(self, table: Table, size: int) -> Iterator[Sequence[tuple]]:
        """yield_per streams the result (a named cursor on PostgreSQL, an unbuffered one on MariaDB):
        one statement, so one consistent snapshot, with only `size` rows in memory at a time."""
        t = TABLES[table.value]
        query = sa.select(t).order_by(t.c.id)
        with unavailable_on_failure(), self._engine.connect() as conn:
            result = conn.execution_options(yield_per=size).execute(query)
            for part in result.partitions():
                yield [tuple(row) for row in part]
