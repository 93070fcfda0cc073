"""The bulk path each database gets (COPY on PostgreSQL, executemany on SQLite, INSERT IGNORE on
MariaDB) gives the challenge files' exact figures, and a second run inserts nothing."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from core.ports import BatchWrite
from domain.entities import Department, Employee, Job
from domain.tables import LOAD_ORDER, Table
from infra.db.bulk import bulk_writer, sqlite_executemany
from infra.db.engine import create_engine
from infra.db.inserts import insert_new_rows
from infra.db.load_store import SqlLoadStore
from infra.db.schema import hired_employees
from main import build_services


def test_each_dialect_gets_its_bulk_writer():
    assert bulk_writer("postgresql").__self__.__class__.__name__ == "PostgresCopy"
    assert bulk_writer("sqlite") is sqlite_executemany
    assert bulk_writer("mysql") is insert_new_rows
    assert bulk_writer("mssql") is insert_new_rows


def test_bulk_path_loads_the_challenge_files_exactly_and_a_rerun_inserts_nothing(settings, challenge_dir):
    services = build_services(settings)
    for table in LOAD_ORDER:
        (settings.storage_dir / table.file_name).write_bytes((challenge_dir / table.file_name).read_bytes())

    for run, inserted in (("first", [12, 183, 1929]), ("again", [0, 0, 0])):
        summaries = services.ingestion.load_all(f"{run}-{uuid.uuid4().hex}")
        totals = {s.table: s.totals() for s in summaries}
        assert [totals[t.value]["inserted"] for t in LOAD_ORDER] == inserted
        assert [totals[t.value]["already_exists"] for t in LOAD_ORDER] == [
            12 - inserted[0], 183 - inserted[1], 1929 - inserted[2]]
        assert totals["hired_employees"]["errors"] == 70
        assert [(b.processed, b.inserted + b.already_exists + b.errors) for b in summaries[2].batches] == [
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
