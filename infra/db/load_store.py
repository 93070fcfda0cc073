"""The LoadStore port on SQLAlchemy: bulk id look-ups and one transaction per batch."""
from __future__ import annotations

import logging
from typing import Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.errors import StoreUnavailable
from core.ports import BatchWrite
from core.summary import BatchSummary
from domain.rejections import Rejection
from domain.tables import Table
from infra.db.bulk import bulk_writer, present_ids, sqlite_executemany
from infra.db.engine import is_sqlite_file
from infra.db.failures import unavailable_on_failure
from infra.db.hire_summaries import fold, write_counting_hires
from infra.db.inserts import ConcurrentWrite, insert_new_rows
from infra.db.postgres_batch import PostgresBatch
from infra.db.rejection_rows import REJECTION_COLUMNS, rejection_row, rejection_values, rejections_as_json_rows
from infra.db.resolutions import relog, resolve
from infra.db.schema import TABLES, load_batches, rejected_rows

log = logging.getLogger(__name__)

# SQLite rewrites every index page a transaction touched into its WAL at commit, so its batches share
# transactions (each still counted and recorded alone). The group is held in memory until it commits: its
# size is the trade between the two (Documentation/benchmarks.md).
_BATCHES_PER_COMMIT = {"sqlite": 40}
# The server's own work on a batch (index inserts) runs on a backend of its own while the next batch is
# validated: batches in flight keep the server busy meanwhile, and each waits on round trips that the others
# fill. PostgreSQL gains a little more up to six, but the load is then bound by the server's work, of which
# the reports' summary takes its full share: four keep the summary's part of a load small (issue 18). Past
# six, turns for the interpreter cost more than the server gains. SQLite runs in this process and gives the
# interpreter up and takes it back for every row, so a commit thread would only take turns with the
# validation: its groups are committed by a process of their own, one at work and one waiting.
# Documentation/benchmarks.md has the figures.
_COMMITS_IN_FLIGHT = {"postgresql": 4, "mysql": 4, "mariadb": 4, "sqlite": 2}


class SqlLoadStore:
    def __init__(self, engine: sa.Engine, clock) -> None:
        self._engine = engine
        self._clock = clock
        self._write_rows = bulk_writer(engine.dialect.name)
        self._write_rejections = {"sqlite": _executemany_rejections, "mysql": _mysql_rejections,
                                  "mariadb": _mysql_rejections}.get(engine.dialect.name, _insert_rejections)
        # A batch's first try: PostgreSQL's transaction of its own, else the dialect's bulk path. A bulk
        # path that meets a row another writer inserted meanwhile is tried again on the portable one.
        self._postgres = PostgresBatch(engine, clock) if engine.dialect.name == "postgresql" else None
        self._has_fast_path = self._postgres is not None or self._write_rows is not insert_new_rows
        self.batches_per_commit = _BATCHES_PER_COMMIT.get(engine.dialect.name, 1)
        self.commits_in_flight = _COMMITS_IN_FLIGHT.get(engine.dialect.name, 1)
        self.commits_in_a_process = is_sqlite_file(engine)
        if engine.dialect.name == "sqlite" and not self.commits_in_a_process:
            self.commits_in_flight = 0  # a database in memory is this process's own: committed in turn
        # PostgreSQL's rows text and MariaDB's literals are made from the lines; SQLite's executemany is not.
        self.writes_from_lines = self._write_rows is not sqlite_executemany

    def known_ids(self, table: Table, ids: Iterable[int]) -> set[int]:
        with unavailable_on_failure(), self._engine.connect() as conn:
            return present_ids(conn, TABLES[table.value].c.id, list(ids))

    def recorded_batches(self, task_id: str, table: Table) -> dict[int, BatchSummary]:
        query = sa.select(load_batches).where(
            load_batches.c.task_id == task_id, load_batches.c.table_name == table.value)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return {row.batch: _summary(row) for row in conn.execute(query)}

    def recorded_rows(self, task_id: str, table: Table) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(load_batches.c.processed), 0)).where(
            load_batches.c.task_id == task_id, load_batches.c.table_name == table.value)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def commit_batch(self, write: BatchWrite, *, durable: bool = True) -> BatchSummary:
        try:
            try:
                if self._postgres and not (write.resolves or write.rechecks):
                    return self._postgres.commit(write, durable=durable)
                # A batch that also updates logged rejections (a replay, a fixed export come back): the
                # SQLAlchemy path, whose transaction takes those updates too (and waits for the disk).
                return self._commit(write, self._write_rows)
            except IntegrityError:
                if not self._has_fast_path or self._recorded(write) is not None:
                    raise
                # The bulk path met a row another writer inserted meanwhile: once more on the portable
                # path, which skips present ids by itself.
                return self._commit(write, insert_new_rows)
        except IntegrityError as error:
            # Another delivery of the same task committed this batch first: its figures stand.
            recorded = self._recorded(write)
            if recorded is None:
                # A constraint the validation had checked (a parent row vanished meanwhile): the batch
                # is rolled back and failed as retryable, as MariaDB's INSERT IGNORE path already does.
                raise ConcurrentWrite(f"batch {write.batch} of {write.table.value} broke a constraint "
                                      f"after validation: {error.orig}") from error
            return recorded

    def make_durable(self) -> None:
        """The load's end: the summary's additions folded (and on PostgreSQL, the log flushed once)."""
        if self._postgres:
            self._postgres.make_durable()
            return
        try:
            with unavailable_on_failure(), self._engine.begin() as conn:
                fold(conn)
        except StoreUnavailable as error:
            # Every batch has landed; the summary counts its additions whether folded or not (the next
            # report folds them), so a fold that met a lock or a lost connection does not fail the load.
            log.warning("the summary's additions were left for the next fold: %s", error)

    def _recorded(self, write: BatchWrite) -> BatchSummary | None:
        return self.recorded_batches(write.task_id, write.table).get(write.batch)

    def commit_batches(self, writes: Sequence[BatchWrite]) -> list[BatchSummary]:
        if len(writes) == 1:
            return [self.commit_batch(writes[0], durable=False)]
        try:
            with unavailable_on_failure(), self._engine.begin() as conn:
                return [self._write(conn, write, self._write_rows) for write in writes]
        except (IntegrityError, ConcurrentWrite):
            # Another writer or another delivery met one of them: all rolled back, then batch by batch,
            # each with the recovery commit_batch knows.
            return [self.commit_batch(write) for write in writes]

    def _commit(self, write: BatchWrite, write_rows) -> BatchSummary:
        with unavailable_on_failure(), self._engine.begin() as conn:
            return self._write(conn, write, write_rows)

    def _write(self, conn: sa.Connection, write: BatchWrite, write_rows) -> BatchSummary:
        # The rows, and for employees the report summary of those it inserted (infra.db.hire_summaries).
        summary = write.summary(write_counting_hires(conn, write_rows, TABLES[write.table.value], write.rows,
                                                     write.lines))
        if write.rejections:
            (relog if write.rechecks else self._write_rejections)(conn, write.rejections)
        if write.resolves:
            resolve(conn, write, self._clock())
        # The statement once, its values as parameters: a statement built a batch costs its construction and
        # cache key every time.
        conn.execute(_RECORD_BATCH, {"task_id": write.task_id, "table_name": write.table.value,
                                     "committed_at": self._clock(), **summary.as_dict()})
        return summary


_RECORD_BATCH = load_batches.insert()


def _insert_rejections(conn: sa.Connection, rejections: Sequence[Rejection]) -> None:
    conn.execute(rejected_rows.insert(), [rejection_row(r) for r in rejections])


def _executemany_rejections(conn: sa.Connection, rejections: Sequence[Rejection]) -> None:
    """Straight to the driver, as the rows go (SQLite's datetimes as infra.db.engine has it write them;
    PyMySQL's as it writes them itself)."""
    names = ", ".join(REJECTION_COLUMNS)
    marks = ", ".join("?" if conn.dialect.paramstyle == "qmark" else "%s" for _ in REJECTION_COLUMNS)
    conn.exec_driver_sql(f"INSERT INTO rejected_rows ({names}) VALUES ({marks})",
                         list(map(rejection_values, rejections)))


def _mysql_rejections(conn: sa.Connection, rejections: Sequence[Rejection]) -> None:
    """MariaDB: one INSERT … SELECT from JSON_TABLE over the rows as one JSON text, where PyMySQL's executemany
    escaped every value of every row in Python. MySQL, whose JSON_TABLE differs, and MariaDB before 10.6,
    which has none: the executemany."""
    if not (conn.dialect.is_mariadb and conn.dialect.server_version_info >= (10, 6)):
        _executemany_rejections(conn, rejections)
        return
    for piece in _pieces(rejections):
        conn.exec_driver_sql(_FROM_JSON_TABLE, (rejections_as_json_rows(piece),))


def _pieces(rejections: Sequence[Rejection]) -> Iterator[list[Rejection]]:
    """The rows in runs of about a megabyte of text, as PyMySQL's executemany cut its statements: a logged line
    may be long, and a statement must fit the server's max_allowed_packet."""
    piece: list[Rejection] = []
    size = 0
    for rejected in rejections:
        if piece and size >= _JSON_TABLE_BYTES:
            yield piece
            piece, size = [], 0
        piece.append(rejected)
        size += len(rejected.raw) + sum(map(len, (*rejected.reasons, *(rejected.fields or ())))) + 200
    if piece:
        yield piece


_JSON_TABLE_BYTES = 1_000_000


# Each value as the column takes it, by its place in rejections_as_json_rows' arrays.
_JSON_COLUMNS = ("VARCHAR(32)", "VARCHAR(255)", "INT", "LONGTEXT", "LONGTEXT", "VARCHAR(64)", "DATETIME(6)", "LONGTEXT")
_FROM_JSON_TABLE = (
    f"INSERT INTO rejected_rows ({', '.join(REJECTION_COLUMNS)}) SELECT {', '.join(REJECTION_COLUMNS)} "
    "FROM JSON_TABLE(%s, '$[*]' COLUMNS ("
    + ", ".join(f"{name} {kind}{' CHARACTER SET utf8mb4' if 'CHAR' in kind or 'TEXT' in kind else ''} "
                f"PATH '$[{at}]' ERROR ON ERROR"
                for at, (name, kind) in enumerate(zip(REJECTION_COLUMNS, _JSON_COLUMNS)))
    + ")) AS incoming")


def _summary(row) -> BatchSummary:
    return BatchSummary(row.batch, row.processed, row.inserted, row.already_exists, row.errors,
                        tuple(row.error_ids))
