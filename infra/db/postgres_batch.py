"""One batch's transaction on PostgreSQL, in two round trips, on the driver's own connection.

    1. BEGIN, a look-up, the batch's new rows and its rejected rows, sent together. The look-up takes, for a
       child table, a FOR KEY SHARE lock on every parent row the batch names and counts them: the very
       check and lock a foreign-key trigger takes, once per parent instead of once per row. With the
       parents held, the per-row triggers are switched off for this transaction only, where the role may
       (superuser, or GRANT SET ON PARAMETER session_replication_role); the constraints stay in the schema
       and keep guarding every other writer and every delete of a parent. The rows go in one statement
       (infra.db.postgres_insert): those whose id is present are counted as already_exists and left as
       they are, and for hired_employees the inserted ones are appended to the reports' summary.
    2. The batch's load_batches record and COMMIT, once the look-up found every parent.

Each round trip wakes a commit thread that must take the interpreter back from the thread that validates the
next batches: fewer of them is time given back to validation. A parent missing by the look-up fails the
batch (ConcurrentWrite, retried), and so does the foreign key where the triggers stay on; a row another
writer inserted meanwhile fails the insert on the primary key (IntegrityError): the store then runs the
batch again on the portable path (infra.db.inserts)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator

import psycopg
import sqlalchemy as sa

from core.errors import StoreUnavailable
from core.ports import BatchWrite
from core.summary import BatchSummary
from infra.db.bulk import int_array, pg_type
from infra.db.hire_summaries import fold_on, summary_of_inserted
from infra.db.inserts import ConcurrentWrite, parents_named, require_parents
from infra.db.postgres_insert import new_rows_statement
from infra.db.rejection_rows import REJECTION_COLUMNS, rejections_as_json
from infra.db.schema import TABLES, load_batches, rejected_rows

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
        rows = write.rows
        named = parents_named(table, rows) if rows else []
        with self._transaction() as (connection, cursor):
            look_up = _look_up(named, bool(named) and self._may_skip(cursor), durable)
            try:
                with connection.pipeline(), connection.cursor() as asked, connection.cursor() as inserting:
                    cursor.execute("BEGIN")
                    if look_up:
                        asked.execute(look_up, [int_array(wanted) for _, wanted in named])
                    if rows:
                        inserting.execute(*new_rows_statement(table, rows, write.lines, summary_of_inserted(table)))
                    if write.rejections:
                        cursor.execute(_REJECTIONS, [rejections_as_json(write.rejections)])
                    # The look-up answers the parents' counts first (when it only sets this transaction's
                    # settings, its answer is left to the pipeline).
                    locked = asked.fetchone() if named else ()
                    inserted = inserting.fetchone()[0] if rows else 0
            except psycopg.errors.ForeignKeyViolation as error:
                # The triggers stayed on (a role that may not switch them off) and met the parent first.
                raise ConcurrentWrite(f"a parent this batch of {table.name} names was deleted after validation: "
                                      f"{error.diag.message_detail}") from error
            require_parents(table, named, locked[:len(named)])
            summary = write.summary(inserted)
            record = {**summary.as_dict(), "task_id": write.task_id, "table_name": write.table.value,
                      "committed_at": self._clock()}
            record["error_ids"] = json.dumps(record["error_ids"])
            with connection.pipeline():
                cursor.execute(_RECORD, [record[key] for key in load_batches.c.keys()])
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
        except psycopg.OperationalError as error:
            # A connection the server cut may not know it yet: its ROLLBACK then fails too.
            if connection.closed or not _rolled_back(connection):
                # As SQLAlchemy does on a disconnect: the server was lost or restarted, so every pooled
                # connection is dropped, not only this one.
                pooled.invalidate(error)
                self._engine.dispose()
            raise StoreUnavailable(f"the database is unavailable: {error}") from error
        except BaseException as error:
            if not _rolled_back(connection):
                pooled.invalidate()
            if isinstance(error, psycopg.IntegrityError):
                raise sa.exc.IntegrityError("batch", None, error) from error
            raise
        finally:
            if not connection.closed:
                try:
                    connection.autocommit = False
                except psycopg.Error:  # left mid-statement by a failure: not given back to the pool
                    pooled.invalidate()
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


def _look_up(named: list[tuple[sa.Column, list[int]]], skip_triggers: bool, durable: bool) -> str | None:
    """The parents locked and counted, and this transaction's settings; None when there is nothing to ask."""
    # Lists go in as ARRAY(SELECT unnest(…)): the planner then does not estimate every element of a
    # constant list, which costs more than the query itself at a thousand ids.
    parts = [f'(SELECT count(*) FROM (SELECT 1 FROM "{key.table.name}" WHERE "{key.name}" = '
             f'ANY(ARRAY(SELECT unnest(%s::{pg_type(key)}[]))) FOR KEY SHARE) AS p{n})'
             for n, (key, _) in enumerate(named)]
    if skip_triggers:
        parts.append("set_config('session_replication_role', 'replica', true)")
    if not durable:
        parts.append("set_config('synchronous_commit', 'off', true)")
    return "SELECT " + ", ".join(parts) if parts else None


def _roll_back(connection: psycopg.Connection) -> None:
    """The driver's own rollback, not a ROLLBACK statement: ending a transaction (which every pipeline here
    begins), it also forgets the statements the driver prepared. One it was to prepare in a pipeline after a
    statement that failed was skipped by the server, yet the driver counts it as prepared; a ROLLBACK sent
    as a statement does not always make it forget. The next batches on the connection prepare theirs again."""
    if not connection.closed:
        connection.rollback()


def _rolled_back(connection: psycopg.Connection) -> bool:
    """Rolls back; False when the connection could not take the ROLLBACK (then it is of no further use)."""
    try:
        _roll_back(connection)
    except psycopg.Error:
        return False
    return True
