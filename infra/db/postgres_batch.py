"""One batch's transaction on PostgreSQL, in four round trips, on the driver's own connection.

    1. BEGIN and one look-up, sent together: the ids of the batch already present (counted as already_exists,
       left unchanged, not copied) and, for a child table, a FOR KEY SHARE lock on every parent row the batch
       names — the very check and lock a foreign-key trigger takes, once per parent instead of once per row.
       With the parents held, the per-row triggers are switched off for this transaction only, where the
       role may (superuser, or GRANT SET ON PARAMETER session_replication_role); the constraints stay in
       the schema and keep guarding every other writer and every delete of a parent.
    2. COPY of the new rows (CSV): the batch's lines as the file wrote them when they are already COPY's
       form (infra.db.written_lines), else the typed rows written out by the csv module.
    3. The rejected rows, the batch's load_batches record, the counts of the employees it inserted for the
       reports' summary (infra.db.hire_summaries) and COMMIT, sent together.

Each round trip wakes a commit thread that must take the interpreter back from the thread that validates the
next batches: fewer of them is time given back to validation. A parent missing by the look-up fails the
batch (ConcurrentWrite, retried); a row another writer inserted after it makes the COPY fail on the primary
key (IntegrityError): the store then runs the batch again on the portable path (infra.db.inserts)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Callable, Iterator

import psycopg
import sqlalchemy as sa

from core.errors import StoreUnavailable
from core.ports import BatchWrite
from core.summary import BatchSummary
from infra.db.bulk import copy_csv, dense_range, int_array, pg_type
from infra.db.hire_summaries import fold_on, postgres_statements
from infra.db.inserts import parents_named, require_parents
from infra.db.rejection_rows import REJECTION_COLUMNS, rejections_as_json
from infra.db.schema import TABLES, load_batches, rejected_rows
from infra.db.written_lines import as_copy_csv

# json_populate_recordset reads a JSON null as SQL NULL: "no fields" is kept as JSON's null, as on every path.
_COLUMNS = ", ".join(REJECTION_COLUMNS)
_READ = ", ".join("COALESCE(fields, 'null'::json)" if name == "fields" else name for name in REJECTION_COLUMNS)
_REJECTIONS = (f"INSERT INTO {rejected_rows.name} ({_COLUMNS}) "
               f"SELECT {_READ} FROM json_populate_recordset(NULL::{rejected_rows.name}, %s)")
_RECORD = (f"INSERT INTO {load_batches.name} ({', '.join(load_batches.c.keys())}) "
           f"VALUES ({', '.join(['%s'] * len(load_batches.c))})")


class PostgresBatch:
    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock
        self._may_skip_triggers: bool | None = None  # asked once, on the first batch

    def commit(self, write: BatchWrite, *, durable: bool = True) -> BatchSummary:
        """The batch in one transaction. Not durable: its commit does not wait for the disk; make_durable,
        at the load's end, does for all of them at once."""
        table = TABLES[write.table.value]
        with self._transaction() as (connection, cursor):
            rows, text = write.rows, None
            if rows:
                present = self._look_up(cursor, table, rows, durable)
                text = as_copy_csv(table, write.lines) if len(write.lines) == len(rows) else None
                if present:
                    id_at = list(table.c).index(table.c.id)
                    kept = [at for at, row in enumerate(rows) if row[id_at] not in present]
                    rows = [rows[at] for at in kept]
                    text = text and "".join([write.lines[at] + "\n" for at in kept])
            else:
                cursor.execute("BEGIN")
            if rows:
                copy_csv(cursor, table, rows, text=text)
            summary = write.summary(len(rows))
            with connection.pipeline():
                if write.rejections:
                    cursor.execute(_REJECTIONS, [rejections_as_json(write.rejections)])
                record = {**summary.as_dict(), "task_id": write.task_id, "table_name": write.table.value,
                          "committed_at": self._clock()}
                record["error_ids"] = json.dumps(record["error_ids"])
                cursor.execute(_RECORD, [record[key] for key in load_batches.c.keys()])
                # The employees the COPY inserted, for the reports' summary.
                for statement, params in postgres_statements(table, rows):
                    cursor.execute(statement, params)
                cursor.execute("COMMIT")
        return summary

    def make_durable(self) -> None:
        """Folds the summary's additions (infra.db.hire_summaries) and waits until the write-ahead log is on
        disk up to now: a commit that waits for the disk (this transaction's, given an id so that it writes
        a commit record) flushes the whole log before it, the batches committed without waiting included."""
        with self._transaction() as (_, cursor):
            with cursor.connection.pipeline():
                cursor.execute("BEGIN")
                fold_on(cursor)
                cursor.execute("SELECT pg_current_xact_id()")
                cursor.execute("COMMIT")

    def _look_up(self, cursor, table: sa.Table, rows, durable: bool) -> set[int]:
        """BEGIN and the look-up in one round trip; the parents' count checked, the present ids returned."""
        named = parents_named(table, rows)
        skip_triggers = bool(table.foreign_keys) and self._may_skip(cursor)
        ids = list(map(itemgetter(table.c.keys().index("id")), rows))
        span = dense_range(ids)
        with cursor.connection.pipeline():
            cursor.execute("BEGIN")
            cursor.execute(_look_up_query(table, [key for key, _ in named], skip_triggers, span is not None,
                                          durable),
                           [*(span or [int_array(ids)]), *(int_array(wanted) for _, wanted in named)])
            present, *locked = cursor.fetchone()[:1 + len(named)]
        require_parents(table, named, locked)
        return set(present)

    @contextmanager
    def _transaction(self) -> Iterator[tuple[psycopg.Connection, psycopg.Cursor]]:
        """A pooled connection in autocommit, so that BEGIN goes out with the first statement, not alone;
        rolled back on any failure, and given back to the pool as it was taken."""
        pooled = self._engine.raw_connection()
        connection: psycopg.Connection = pooled.driver_connection
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                yield connection, cursor
        except psycopg.IntegrityError as error:
            _roll_back(connection)
            raise sa.exc.IntegrityError("batch", None, error) from error
        except psycopg.OperationalError as error:
            if connection.closed:
                # As SQLAlchemy does on a disconnect: the server was lost or restarted, so every pooled
                # connection is dropped, not only this one.
                pooled.invalidate(error)
                self._engine.dispose()
            else:
                _roll_back(connection)
            raise StoreUnavailable(f"the database is unavailable: {error}") from error
        except BaseException:
            _roll_back(connection)
            raise
        finally:
            if not connection.closed:
                connection.autocommit = False
            pooled.close()

    def _may_skip(self, cursor) -> bool:
        if self._may_skip_triggers is None:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            allowed = bool(cursor.fetchone()[0])
            if not allowed and cursor.connection.info.server_version >= 150000:
                cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
                allowed = bool(cursor.fetchone()[0])
            self._may_skip_triggers = allowed
        return self._may_skip_triggers


def _look_up_query(table: sa.Table, keys: list[sa.Column], skip_triggers: bool, dense: bool, durable: bool) -> str:
    # Lists go in as ARRAY(SELECT unnest(…)): the planner then does not estimate every element of a
    # constant list, which costs more than the query itself at a thousand ids.
    kind = pg_type(table.c.id)
    where = "id BETWEEN %s AND %s" if dense else f"id = ANY(ARRAY(SELECT unnest(%s::{kind}[])))"
    parts = [f'ARRAY(SELECT id FROM "{table.name}" WHERE {where})']
    parts += [f'(SELECT count(*) FROM (SELECT 1 FROM "{key.table.name}" WHERE "{key.name}" = '
              f'ANY(ARRAY(SELECT unnest(%s::{pg_type(key)}[]))) FOR KEY SHARE) AS p{n})'
              for n, key in enumerate(keys)]
    if skip_triggers:
        parts.append("set_config('session_replication_role', 'replica', true)")
    if not durable:
        parts.append("set_config('synchronous_commit', 'off', true)")
    return "SELECT " + ", ".join(parts)


def _roll_back(connection: psycopg.Connection) -> None:
    if not connection.closed and connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        connection.execute("ROLLBACK")
