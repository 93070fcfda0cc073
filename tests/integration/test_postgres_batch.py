"""PostgreSQL's own batch transaction (infra/db/postgres_batch.py): with and without the right to switch the
foreign-key triggers off, what it does when a parent goes between validation and commit, and the connection a
failed batch leaves for the next."""
from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
import pytest
import sqlalchemy as sa

from core.clock import utc_now
from core.ingestion import Ingestion
from core.ports import BatchWrite
from domain.entities import Department, Employee, Job
from domain.rejections import rejection
from domain.tables import LOAD_ORDER, Table
from infra.db import postgres_batch
from infra.db.engine import create_engine
from infra.db.inserts import ConcurrentWrite
from infra.db.load_store import SqlLoadStore
from infra.db.migrate import upgrade
from infra.db.postgres_batch import PostgresBatch
from infra.storage.local import LocalBlobStore
from tests.conftest import POSTGRES_URL, emptied
from tests.summaries import assert_summary_equals_the_rows


@pytest.fixture
def owner_without_superuser():
    """A fresh database owned by a role that is no superuser: it may not switch the triggers off."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    role, name = f"hr_owner_{uuid.uuid4().hex[:8]}", f"hr_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN NOSUPERUSER"))
        conn.execute(sa.text(f"CREATE DATABASE {name} OWNER {role}"))
    engine = create_engine(admin.url.set(database=name, username=role).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_a_role_without_superuser_loads_the_challenge_files_exactly_with_the_triggers_on(
        owner_without_superuser, challenge_dir, tmp_path):
    for table in LOAD_ORDER:
        (tmp_path / table.file_name).write_bytes((challenge_dir / table.file_name).read_bytes())
    store = SqlLoadStore(owner_without_superuser, utc_now)
    ingestion = Ingestion(store, LocalBlobStore(tmp_path))

    for run, inserted in (("first", [12, 183, 1929]), ("again", [0, 0, 0])):
        summaries = ingestion.load_all(f"{run}-{uuid.uuid4().hex}")
        assert [s.totals()["inserted"] for s in summaries] == inserted
        assert summaries[2].totals()["errors"] == 70
    assert store._postgres._may_skip_triggers is False  # the triggers checked every row


def test_a_parent_deleted_after_validation_fails_the_batch_whole(postgres_url):
    engine = create_engine(emptied(postgres_url))
    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "t", 1, 1, [Department(1, "D")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "t", 1, 1, [Job(1, "J")], []))
    # Department 2 was there when the batch was validated, and is gone by its commit.
    rows = [Employee(10, "A", datetime(2021, 1, 1), 1, 1), Employee(11, "B", datetime(2021, 1, 1), 2, 1)]

    with pytest.raises(ConcurrentWrite, match="1 departments rows"):
        PostgresBatch(engine, lambda: datetime(2024, 1, 1)).commit(
            BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 2, rows, []))

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hired_employees")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM load_batches WHERE table_name = 'hired_employees'")
                            ).scalar_one() == 0
        # The connection went back to the pool as it was taken: out of any transaction, not in autocommit.
        driver = conn.connection.driver_connection
        assert driver.autocommit is False
    engine.dispose()


def test_the_summary_counts_only_the_rows_the_batch_inserted_whether_its_ids_are_close_or_scattered(postgres_url):
    engine = create_engine(emptied(postgres_url))
    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "t", 1, 2, [Department(1, "D"), Department(2, "E")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "t", 1, 1, [Job(1, "J")], []))
    first = [Employee(i, "A", datetime(2021, 3, 31, 23, 59, 59), 1, 1) for i in (5, 7, 2_000_000)]
    store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 3, first, []))
    # Close ids, some already there; then scattered ones, some already there.
    close = [Employee(i, "B", datetime(2021, 4, 1), 2, 1) for i in range(4, 10)]
    scattered = [Employee(i, "C", datetime(2022, 12, 31), 1, 1) for i in (7, 1_000, 2_000_000, 2_000_001)]
    for number, rows in ((2, close), (3, scattered)):
        store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, "t", number, len(rows), rows, []))

    with engine.connect() as conn:  # each batch appended its counts; none was folded yet
        assert conn.execute(sa.text("SELECT count(*) FROM hire_summary_additions")).scalar_one() == 3
        assert conn.execute(sa.text("SELECT count(*) FROM hire_summaries")).scalar_one() == 0
    assert assert_summary_equals_the_rows(engine, [2021, 2022]) == 3 + 4 + 2
    with engine.connect() as conn:  # the reports folded them before reading
        assert conn.execute(sa.text("SELECT count(*) FROM hire_summary_additions")).scalar_one() == 0
    assert assert_summary_equals_the_rows(engine, [2021, 2022]) == 3 + 4 + 2
    engine.dispose()


def test_a_load_folds_its_batches_counts_into_the_summary_when_it_ends(postgres_url, challenge_dir, tmp_path):
    engine = create_engine(emptied(postgres_url))
    for table in LOAD_ORDER:
        (tmp_path / table.file_name).write_bytes((challenge_dir / table.file_name).read_bytes())
    Ingestion(SqlLoadStore(engine, utc_now), LocalBlobStore(tmp_path)).load_all(f"fold-{uuid.uuid4().hex}")

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hire_summary_additions")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT sum(hired) FROM hire_summaries")).scalar_one() == 1929
    assert assert_summary_equals_the_rows(engine, [2021]) == 1929
    engine.dispose()


def test_rejected_rows_keep_their_fields_or_json_null_as_every_path_writes_them(postgres_url):
    engine = create_engine(postgres_url)
    upgrade(engine)
    task = f"rejections-{uuid.uuid4().hex}"
    now = datetime(2024, 5, 6, 7, 8, 9, 123456)
    unread = rejection(Table.JOBS, "jobs.csv", 3, "\udcff", ["not UTF-8"], task, now)
    split = rejection(Table.JOBS, "jobs.csv", 4, 'x,"Quoted, name"', ["id: not a number"], task, now,
                      fields=["x", "Quoted, name"])
    SqlLoadStore(engine, utc_now).commit_batch(BatchWrite(Table.JOBS, task, 1, 2, [], [unread, split]))
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT line_number, fields IS NULL, fields::text, reasons::text, rejected_at, raw_text "
            "FROM rejected_rows WHERE task_id = :task ORDER BY line_number"), {"task": task}).all()
    assert [tuple(row) for row in stored] == [
        (3, False, "null", '["not UTF-8"]', now, unread.raw),
        (4, False, '["x", "Quoted, name"]', '["id: not a number"]', now, 'x,"Quoted, name"')]
    engine.dispose()


def test_a_parent_deleted_after_validation_fails_the_batch_whole_where_the_triggers_stay_on(owner_without_superuser):
    """A role that may not switch the triggers off: the foreign key meets the missing parent in the insert,
    before the look-up's count is read, and the batch fails as retryable all the same."""
    engine = owner_without_superuser
    store = SqlLoadStore(engine, lambda: datetime(2024, 1, 1))
    store.commit_batch(BatchWrite(Table.DEPARTMENTS, "t", 1, 1, [Department(1, "D")], []))
    store.commit_batch(BatchWrite(Table.JOBS, "t", 1, 1, [Job(1, "J")], []))
    rows = [Employee(10, "A", datetime(2021, 1, 1), 1, 1), Employee(11, "B", datetime(2021, 1, 1), 2, 1)]

    with pytest.raises(ConcurrentWrite, match="deleted after validation"):
        store.commit_batch(BatchWrite(Table.HIRED_EMPLOYEES, "t", 1, 2, rows, []))

    assert store._postgres._may_skip_triggers is False
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hired_employees")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM load_batches WHERE table_name = 'hired_employees'")
                            ).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM hire_summary_additions")).scalar_one() == 0


def test_a_batch_that_fails_mid_pipeline_leaves_its_connection_fit_for_the_next(postgres_url, monkeypatch):
    """The driver prepares a statement on its sixth run. Sent in a pipeline after a statement that fails (a
    deadlock between loads, in CI), that statement is skipped unprepared, while the driver counts it as
    prepared; the rollback must forget every prepared statement, or each later batch on that connection
    fails on "prepared statement does not exist"."""
    engine = create_engine(emptied(postgres_url))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO departments VALUES (1, 'D'); INSERT INTO jobs VALUES (1, 'J')"))
    batch = PostgresBatch(engine, lambda: datetime(2024, 1, 1))
    now = datetime(2024, 1, 1)

    def write(number: int) -> BatchWrite:
        refused = rejection(Table.HIRED_EMPLOYEES, "f.csv", number, "x", ["id: not a number"], "t", now)
        return BatchWrite(Table.HIRED_EMPLOYEES, "t", number, 2,
                          [Employee(number, "A", datetime(2021, 1, 1), 1, 1)], [refused])

    def fails_after_its_look_up(number: int) -> None:
        """The batch's insert fails in the pipeline; the rejections' statement after it is skipped."""
        with monkeypatch.context() as patched:
            patched.setattr(postgres_batch, "new_rows_statement", lambda *_: ("SELECT 1 / 0", ()))
            with pytest.raises(psycopg.errors.DivisionByZero):
                batch.commit(write(number))

    fails_after_its_look_up(1)  # a first rollback, before the driver prepared anything
    for number in range(2, 7):  # the rejections' statement runs five times
        batch.commit(write(number))
    fails_after_its_look_up(7)  # its sixth run, to be prepared, is skipped
    for number in range(7, 11):
        assert batch.commit(write(number)).inserted == 1

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hired_employees")).scalar_one() == 9
        assert conn.execute(sa.text("SELECT count(*) FROM rejected_rows")).scalar_one() == 9
    engine.dispose()
