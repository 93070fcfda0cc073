"""The LoadStore port on SQLAlchemy: bulk id look-ups and one transaction per batch."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.errors import StoreUnavailable
from core.ports import BatchWrite
from core.summary import BatchSummary
from domain.tables import Table
from infra.db.inserts import ConcurrentWrite, insert_new_rows
from infra.db.schema import TABLES, load_batches, rejected_rows

_ID_CHUNK = 1000  # ids per IN list, within every dialect's parameter limit


class SqlLoadStore:
    def __init__(self, engine: sa.Engine, clock) -> None:
        self._engine = engine
        self._clock = clock

    def known_ids(self, table: Table, ids: Iterable[int]) -> set[int]:
        column = TABLES[table.value].c.id
        wanted = list(ids)
        found: set[int] = set()
        with _unavailable_on_failure(), self._engine.connect() as conn:
            for start in range(0, len(wanted), _ID_CHUNK):
                chunk = wanted[start:start + _ID_CHUNK]
                found.update(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
        return found

    def recorded_batches(self, task_id: str, table: Table) -> dict[int, BatchSummary]:
        query = sa.select(load_batches).where(
            load_batches.c.task_id == task_id, load_batches.c.table_name == table.value)
        with _unavailable_on_failure(), self._engine.connect() as conn:
            return {row.batch: _summary(row) for row in conn.execute(query)}

    def commit_batch(self, write: BatchWrite) -> BatchSummary:
        try:
            with _unavailable_on_failure(), self._engine.begin() as conn:
                summary = write.summary(insert_new_rows(conn, TABLES[write.table.value], write.rows))
                if write.rejections:
                    conn.execute(rejected_rows.insert(), [_rejection_row(r) for r in write.rejections])
                conn.execute(load_batches.insert().values(
                    task_id=write.task_id, table_name=write.table.value, committed_at=self._clock(),
                    **{k: v for k, v in summary.as_dict().items()}))
            return summary
        except IntegrityError as error:
            # Another delivery of the same task committed this batch first: its figures stand.
            recorded = self.recorded_batches(write.task_id, write.table).get(write.batch)
            if recorded is None:
                # A constraint the validation had checked (a parent row vanished meanwhile): the batch
                # is rolled back and failed as retryable, as MariaDB's INSERT IGNORE path already does.
                raise ConcurrentWrite(f"batch {write.batch} of {write.table.value} broke a constraint "
                                      f"after validation: {error.orig}") from error
            return recorded


def _summary(row) -> BatchSummary:
    return BatchSummary(row.batch, row.processed, row.inserted, row.already_exists, row.errors,
                        tuple(row.error_ids))


def _rejection_row(rejection) -> dict:
    return {
        "table_name": rejection.table.value,
        "source": rejection.source[:255],
        "line_number": rejection.line_number,
        "raw_text": rejection.raw,
        "reasons": list(rejection.reasons),
        "task_id": rejection.task_id,
        "rejected_at": rejection.rejected_at,
    }


class _unavailable_on_failure:
    """Turns a lost or refused connection into the core's StoreUnavailable; other errors pass."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback) -> bool:
        if isinstance(error, DBAPIError) and not isinstance(error, IntegrityError) and (
                error.connection_invalidated or isinstance(error, sa.exc.OperationalError)):
            raise StoreUnavailable(f"the database is unavailable: {error.orig}") from error
        return False
