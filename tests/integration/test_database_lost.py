"""The database lost in the middle of a load: the batch in flight is not half applied, and a re-run resumes."""
from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from core.clock import utc_now
from core.errors import StoreUnavailable
from core.ingestion import Ingestion
from core.ports import BatchWrite
from domain.entities import Department
from domain.tables import Table
from infra.db import postgres_batch
from infra.db.engine import create_engine
from infra.db.load_store import SqlLoadStore
from infra.db.migrate import upgrade
from infra.storage.local import LocalBlobStore
from tests.conftest import _migrated

ROWS = 5_000


def _csv(rows: int) -> bytes:
    return "".join(f"{i},Person {i},2021-0{1 + i % 9}-01T00:00:00Z,1,1\n" for i in range(1, rows + 1)).encode()


@pytest.fixture
def postgres_engine(postgres_url):
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO departments VALUES (1, 'Sales')"))
        conn.execute(sa.text("INSERT INTO jobs VALUES (1, 'Clerk')"))
    yield engine
    engine.dispose()
    # The test cut every connection to the session's database, the pooled ones of the engine the other
    # tests share among them (tests/conftest.py): those go too, so the next test does not meet them dead.
    if postgres_url in _migrated:
        _migrated[postgres_url].dispose()


def test_connections_killed_mid_load_leave_whole_batches_and_a_rerun_completes(postgres_engine, tmp_path):
    (tmp_path / "hired_employees.csv").write_bytes(_csv(ROWS))
    ingestion = Ingestion(SqlLoadStore(postgres_engine, utc_now), LocalBlobStore(tmp_path), batch_size=1000)
    admin = sa.create_engine(postgres_engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)

    name = postgres_engine.url.database

    def database_down(progress) -> None:
        if progress.rows_done == 2000:  # two batches committed: now no connection is allowed, and all are cut
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})

    try:
        with pytest.raises(StoreUnavailable, match="the database is unavailable"):
            ingestion.load_blob(Table.HIRED_EMPLOYEES, "task-cut", on_progress=database_down)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    with postgres_engine.connect() as conn:
        landed = conn.execute(sa.text("SELECT COUNT(*) FROM hired_employees")).scalar_one()
        batches = conn.execute(sa.text("SELECT COUNT(*) FROM load_batches")).scalar_one()
    assert landed % 1000 == 0 and landed == batches * 1000 and landed >= 2000

    summary = ingestion.load_blob(Table.HIRED_EMPLOYEES, "task-cut")
    totals = summary.totals()
    assert (totals["processed"], totals["inserted"], totals["already_exists"]) == (ROWS, ROWS, 0)
    with postgres_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(DISTINCT id) FROM hired_employees")).scalar_one() == ROWS
    admin.dispose()


def test_a_connection_cut_before_it_knows_fails_its_batch_as_unavailable_and_leaves_the_pool(postgres_engine,
                                                                                            monkeypatch):
    """A connection the server cut may not know it yet: its ROLLBACK fails as well. The batch fails as
    retryable, that connection is not given back to the pool, and the next batch runs on a fresh one."""

    def cut(*_args, **_kwargs):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    batch = postgres_batch.PostgresBatch(postgres_engine, utc_now)
    write = BatchWrite(Table.DEPARTMENTS, "cut", 1, 1, [Department(99, "D")], [])
    monkeypatch.setattr(postgres_batch, "new_rows_statement", cut)
    monkeypatch.setattr(postgres_batch, "_roll_back", cut)
    with pytest.raises(StoreUnavailable, match="the database is unavailable"):
        batch.commit(write)
    monkeypatch.undo()
    assert batch.commit(write).inserted == 1
