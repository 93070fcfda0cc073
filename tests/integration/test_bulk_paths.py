"""The bulk path each database gets (one INSERT of the rows as one text on PostgreSQL, executemany on SQLite,
INSERT IGNORE on MariaDB) gives the challenge files' exact figures, and a second run inserts nothing."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import sqlalchemy as sa

from core.errors import StoreUnavailable
from core.ports import BatchWrite
from domain.entities import Department, Employee, Job
from domain.tables import LOAD_ORDER, Table
from infra.db.bulk import bulk_writer, sqlite_executemany
from infra.db.engine import create_engine
from infra.db.inserts import ConcurrentWrite, insert_new_rows
from infra.db.load_store import SqlLoadStore
from infra.db.schema import hired_employees
from main import build_services
from tests.conftest import emptied


def test_each_dialect_gets_its_bulk_writer():
    assert bulk_writer("sqlite") is sqlite_executemany
    assert bulk_writer("mysql") is insert_new_rows
    assert bulk_writer("mssql") is insert_new_rows


def test_bulk_path_loads_the_challenge_files_exactly_and_a_rerun_inserts_nothing(settings, challenge_dir):
    services = build_services(settings)
    for table in LOAD_ORDER:
        (settings.storage_dir / table.file_name).write_bytes((challenge_dir / table.file_name).read_bytes())

    for run, inserted in (("first", [12, 183, 1929]), ("again", [0, 0, 0])):
        task_id = f"{run}-{uuid.uuid4().hex}"
        summaries = services.ingestion.load_all(task_id)
        totals = {s.table: s.totals() for s in summaries}
        assert [totals[t.value]["inserted"] for t in LOAD_ORDER] == inserted
        assert [totals[t.value]["already_exists"] for t in LOAD_ORDER] == [
            12 - inserted[0], 183 - inserted[1], 1929 - inserted[2]]
        assert totals["hired_employees"]["errors"] == 70
        batches = services.rows.batches(task_id, Table.HIRED_EMPLOYEES, 10, 0)
        assert [(b["processed"], b["inserted"] + b["already_exists"] + b["errors"]) for b in batches] == [
            (1000, 1000), (999, 999)]


def test_scattered_ids_partly_present_are_counted_exactly(database_url):
    engine = create_engine(database_url)
    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    task = f"scatter-{uuid.uuid4().hex}"
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, task, 1, 1, [Department(1, "D")], []))
    store.commit_batch(BatchWrite(Table.JOBS, task, 1, 1, [Job(1, "J")], []))
    ids = [7, 1_000, 50_000, 2_000_000_000]  # far apart: the look-up takes the list, not a range
    first = [Employee(i, f"P{i}", datetime(2021, 5, 1, 12, 0, 0, 250), 1, 1) for i in ids[:2]]
    store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task, 1, 2, first, []))
    rows = [Employee(i, "Changed?", datetime(2022, 1, 1), 1, 1) for i in ids]

    summary = store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, task, 2, 4, rows, []))

    assert (summary.inserted, summary.already_exists) == (2, 2)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(hired_employees).order_by(hired_employees.c.id)).all()
    engine.dispose()
    assert [(r.id, r.name, r.datetime) for r in stored] == [
        (7, "P7", datetime(2021, 5, 1, 12, 0, 0, 250)), (1_000, "P1000", datetime(2021, 5, 1, 12, 0, 0, 250)),
        (50_000, "Changed?", datetime(2022, 1, 1)), (2_000_000_000, "Changed?", datetime(2022, 1, 1))]


AWKWARD_NAMES = ["O'Brien", 'say "hi"', "back\\slash \\' quote", "100% %s %(x)s", "two\nlines", "tab\there",
                 "nul-free ✓ ñ 名前", "--; DROP TABLE departments; --", "\x1a ctrl-z"]


# Names a batch may send as the file wrote them (no quote, comma or line break): the MariaDB and PostgreSQL
# paths that take the input's own lines must escape them as the typed path does.
WRITTEN_NAMES = [name for name in AWKWARD_NAMES if not set(name) & set('",\n\t')]


def _round_trip(engine: sa.Engine, names: list[str] = AWKWARD_NAMES, as_written: bool = False) -> list[tuple]:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM departments WHERE id >= 900"))
    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    rows = [Department(900 + n, name) for n, name in enumerate(names)]
    lines = [f"{id_},{name}" for id_, name in rows] if as_written else []
    summary = store.commit_batch(BatchWrite(Table.DEPARTMENTS, f"names-{uuid.uuid4().hex}", 1, len(rows), rows, [],
                                            lines))
    assert summary.inserted == len(rows)
    with engine.connect() as conn:
        query = sa.text("SELECT id, department FROM departments WHERE id >= 900 ORDER BY id")
        return [tuple(row) for row in conn.execute(query)]


def test_names_with_quotes_backslashes_and_percent_signs_are_stored_as_written(database_url):
    engine = create_engine(database_url)
    try:
        assert _round_trip(engine) == [(900 + n, name) for n, name in enumerate(AWKWARD_NAMES)]
        assert len(WRITTEN_NAMES) >= 5
        assert _round_trip(engine, WRITTEN_NAMES, as_written=True) == [
            (900 + n, name) for n, name in enumerate(WRITTEN_NAMES)]
    finally:
        engine.dispose()


def test_mariadb_literals_follow_the_servers_quoting_mode(mariadb_url):
    """With NO_BACKSLASH_ESCAPES a backslash is an ordinary character: the literals must not use it."""
    engine = create_engine(mariadb_url)

    @sa.event.listens_for(engine, "connect")
    def no_backslash_escapes(dbapi_connection, _):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")

    try:
        assert _round_trip(engine) == [(900 + n, name) for n, name in enumerate(AWKWARD_NAMES)]
        assert _round_trip(engine, WRITTEN_NAMES, as_written=True) == [
            (900 + n, name) for n, name in enumerate(WRITTEN_NAMES)]
    finally:
        engine.dispose()


WRITTEN = ('id,name,datetime,department_id,job_id\n'
           '1,Ana,2021-07-27T16:02:08Z,1,1\n'              # plain: sent as written
           '0002,Bea,2021-07-27 16:02:08.5,1,1\n'          # leading zeros, a space, a fraction, no zone
           '3,Cy,2021-07-27T16:02:08+02:00,1,1\n'          # another zone: converted, never sent as written
           '4,"Dee, Jr.",2021-07-27T16:02:08.1234567Z,1,1\n'  # quoted, and a fraction past microseconds
           '5,  Eve  ,2021-07-27T16:02:08Z,1,1\n'         # to be trimmed
           '6,RUIZ,2021-07-27T16:02:08Z,1,1\n'            # a name that ends in Z, as the datetime does
           '0007,Gil,2021-07-27T16:02:08Z,1,1\n')         # leading zeros, plain


def test_rows_are_stored_as_the_rules_read_them_however_the_file_wrote_them(settings):
    """A batch's lines go to PostgreSQL as the file wrote them only when that is already the table's plain form."""
    services = build_services(settings)
    services.upgrade_schema()
    store = SqlLoadStore(create_engine(settings.database_url), lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "parents", 1, 1, [Department(1, "D")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "parents", 1, 1, [Job(1, "J")], []))
    for batch_size in (8, 1):  # every line in one batch, and each batch a line of its own
        (settings.storage_dir / f"written{batch_size}.csv").write_text(WRITTEN, encoding="utf-8")
        with sa.create_engine(settings.database_url).begin() as conn:
            conn.execute(hired_employees.delete())
        services.ingestion.batch_size = batch_size
        summary = services.ingestion.load_blob(Table.HIRED_EMPLOYEES, f"w{batch_size}", f"written{batch_size}.csv")
        assert summary.totals()["inserted"] == 7
        engine = sa.create_engine(settings.database_url)
        with engine.connect() as conn:
            stored = [tuple(r) for r in conn.execute(sa.select(hired_employees).order_by(hired_employees.c.id))]
        engine.dispose()
        at = datetime(2021, 7, 27, 16, 2, 8)
        assert stored == [(1, "Ana", at, 1, 1), (2, "Bea", at.replace(microsecond=500_000), 1, 1),
                          (3, "Cy", at.replace(hour=14), 1, 1), (4, "Dee, Jr.", at.replace(microsecond=123_456), 1, 1),
                          (5, "Eve", at, 1, 1), (6, "RUIZ", at, 1, 1), (7, "Gil", at, 1, 1)]


PLAIN = ('id,name,datetime,department_id,job_id\n'
         '1,Ana,2021-07-27T16:02:08Z,1,1\n'       # in the table's form (core.line_form)
         '2,Bea,2021-07-27T16:02:08Z,01,001\n'    # the same parents, written with zeros
         '3,,2021-07-27T16:02:08Z,1,1\n'          # refused: no name
         '4,Cy,2021-12-31T23:59:59Z,1,1\n')


def test_a_batch_checked_from_its_lines_loads_as_the_rules_read_it(settings):
    """Plain lines (no quote): on PostgreSQL and MariaDB the batch is checked from its lines and its rows are
    never parsed; one parent written two ways is still one parent to lock; the summary counts the rows."""
    services = build_services(settings)
    services.upgrade_schema()
    store = SqlLoadStore(create_engine(settings.database_url), lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "parents", 1, 1, [Department(1, "D")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "parents", 1, 1, [Job(1, "J")], []))
    (settings.storage_dir / "plain.csv").write_text(PLAIN, encoding="utf-8")
    totals = services.ingestion.load_blob(Table.HIRED_EMPLOYEES, "plain", "plain.csv").totals()
    assert (totals["inserted"], totals["errors"]) == (3, 1)
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.select(hired_employees).order_by(hired_employees.c.id))]
        by_quarter = sorted(tuple(r) for r in conn.execute(sa.text(
            "SELECT year, quarter, SUM(hired) FROM hire_summaries GROUP BY year, quarter")))
    engine.dispose()
    at = datetime(2021, 7, 27, 16, 2, 8)
    assert stored == [(1, "Ana", at, 1, 1), (2, "Bea", at, 1, 1), (4, "Cy", datetime(2021, 12, 31, 23, 59, 59), 1, 1)]
    assert by_quarter == [(2021, 3, 2), (2021, 4, 1)]


def test_mariadb_fails_a_batch_whole_when_a_parent_was_deleted_after_validation(mariadb_url):
    """MariaDB's batch inserts without InnoDB's per-row foreign-key checks, having locked the parents
    itself: a parent that is gone must fail the batch, never let an orphan in."""
    engine = create_engine(emptied(mariadb_url))
    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "t", 1, 1, [Department(1, "D")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "t", 1, 2, [Job(1, "J"), Job(2, "K")], []))
    # Department 2 was there when the batch was validated, and is gone by its commit; so is job 3.
    rows = [Employee(10, "A", datetime(2021, 1, 1), 1, 1), Employee(11, "B", datetime(2021, 1, 1), 2, 2)]

    with pytest.raises(ConcurrentWrite, match="1 departments rows"):
        store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 2, rows, []))
    with pytest.raises(ConcurrentWrite, match="1 jobs rows"):
        store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 1,
                                      [Employee(12, "C", datetime(2021, 1, 1), 1, 3)], []))

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hired_employees")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM load_batches WHERE table_name = 'hired_employees'")
                            ).scalar_one() == 0
        assert conn.execute(sa.text("SELECT @@foreign_key_checks")).scalar_one() == 1  # for this statement only
    # With every parent there, the same rows go in.
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "t", 2, 1, [Department(2, "E")], []))
    assert store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 2, rows, [])).inserted == 2
    engine.dispose()


def test_mariadb_holds_the_parents_a_batch_names_until_it_commits(mariadb_url):
    """Without InnoDB's checks the batch's own lock is all that keeps a parent: a delete under way makes the
    batch wait for it, then fail as retryable (the parent gone, or the wait timed out), never slip an orphan in."""
    engine = create_engine(emptied(mariadb_url))

    @sa.event.listens_for(engine, "connect")
    def short_lock_waits(dbapi_connection, _):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 2")

    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "t", 1, 2, [Department(1, "D"), Department(2, "E")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "t", 1, 1, [Job(1, "J")], []))
    write = BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 1, [Employee(10, "A", datetime(2021, 1, 1), 2, 1)], [])
    try:
        with engine.connect() as other:  # a delete under way that outlasts the wait: the lock's timeout
            with other.begin():
                other.execute(sa.text("DELETE FROM departments WHERE id = 2"))
                with pytest.raises(StoreUnavailable, match="Lock wait timeout"):
                    store.commit_batch(write)
                other.rollback()
        with engine.connect() as other, ThreadPoolExecutor(1) as thread:  # one that commits while the batch waits
            deleting = other.begin()
            other.execute(sa.text("DELETE FROM departments WHERE id = 2"))
            committing = thread.submit(store.commit_batch, write)
            time.sleep(0.5)
            deleting.commit()
            with pytest.raises(ConcurrentWrite, match="1 departments rows"):
                committing.result(timeout=30)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM hired_employees")).scalar_one() == 0
    finally:
        engine.dispose()
