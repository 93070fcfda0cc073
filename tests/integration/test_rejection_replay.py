"""From rejected to loaded, on every database: a spreadsheet's export loaded, its rejected rows exported as
CSV, replayed once the missing department arrives, fixed and uploaded back, with every count exact."""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace

import pytest
import sqlalchemy as sa

from core.clock import utc_now
from core.dialects import ReadOptions
from core.errors import StoreUnavailable
from core.ingestion import Ingestion
from core.replay import Replays
from domain.tables import Table
from infra.db.load_store import SqlLoadStore
from infra.db.rejection_log import SqlRejectionLog
from infra.db.schema import hired_employees, rejected_rows
from main import build_services
from tests.spreadsheet import resaved
from tests.summaries import assert_summary_equals_the_rows

E = Table.HIRED_EMPLOYEES
ORDER = ["job_id", "name", "id", "department_id", "datetime"]
EMPLOYEES = (
    "id,name,datetime,department_id,job_id\n"
    "1,José Núñez,2021-01-05T10:00:00Z,1,1\n"  # 2: inserted
    "2,Zoë Ångström,2021-02-05T10:00:00Z,2,1\n"  # 3: waits for department 2
    "3,Ana,2021-03-05T10:00:00Z,2,1\n"  # 4: waits for department 2
    "3,Ana Other,2021-03-06T10:00:00Z,2,1\n"  # 5: waits, and repeats id 3 with other values
    "1,Someone Else,2021-01-05T10:00:00Z,1,1\n"  # 6: repeats id 1 with other values
    "6,Carla,2021-04-05T10:00:00Z,1,1\n"  # 7: inserted
    "6,Carla,2021-04-05T10:00:00Z,1,1\n"  # 8: repeats id 6 with equal values
    "4,Bea,2021-13-01,2,1\n"  # 9: a bad date, and waits for department 2
    "5,Too few,2021-01-01T00:00:00Z,1\n"  # 10: not read into the table's fields
).encode()


@pytest.fixture
def services(settings):
    services = build_services(replace(settings, batch_size=2))
    load = services.ingestion.load_stream
    load(Table.DEPARTMENTS, io.BytesIO("id,department\n1,Recursos Humanos y Administración\n".encode()),
         source="d.csv", task_id=f"d-{uuid.uuid4().hex}")
    load(Table.JOBS, io.BytesIO(b"1,Analista\n"), source="j.csv", task_id=f"j-{uuid.uuid4().hex}")
    return services


def _load_employees(services) -> str:
    task_id = f"load-{uuid.uuid4().hex}"
    summary = services.ingestion.load_stream(E, io.BytesIO(resaved(EMPLOYEES, ORDER)), source="e.csv",
                                             task_id=task_id, options=ReadOptions(encoding="cp1252"))
    assert summary.totals() == {"processed": 9, "inserted": 2, "already_exists": 0, "errors": 7}
    return task_id


def _logged(engine, task_id: str) -> dict[int, tuple]:
    c = rejected_rows.c
    query = sa.select(c.line_number, c.reasons, c.resolved_by, c.resolved_at).where(c.task_id == task_id)
    with engine.connect() as conn:
        return {row.line_number: (row.reasons, row.resolved_by, row.resolved_at) for row in conn.execute(query)}


def _names(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(hired_employees.c.id, hired_employees.c.name)).all())


def _export(services, task_id: str, resolved: bool | None = False) -> list[list[str]]:
    text = "".join(services.rejection_export.csv(E, task_id, resolved))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_rejected_rows_are_exported_replayed_and_fixed_with_every_count_exact(services, engine):
    load_task = _load_employees(services)
    exported = _export(services, load_task)
    assert exported[0] == ["id", "name", "datetime", "department_id", "job_id", "line_number", "reasons",
                           "rejection_id"]
    rows = {int(row[5]): row for row in exported[1:]}
    assert sorted(rows) == [3, 4, 5, 6, 8, 9, 10]
    assert rows[3][:6] == ["2", "Zoë Ångström", "2021-02-05T10:00:00Z", "2", "1", "3"]
    assert rows[3][6] == "department_id 2 does not exist"
    assert rows[9][6] == "datetime '2021-13-01' is not a valid ISO 8601 datetime; department_id 2 does not exist"
    # Not read into the table's fields: the whole line (as the file wrote it) in the first column.
    assert rows[10][:5] == ["5;Too few;2021-01-01T00:00:00Z;1", "", "", "", ""]

    services.ingestion.load_stream(Table.DEPARTMENTS, io.BytesIO("2,Logística\n".encode()), source="d2.csv",
                                   task_id=f"d2-{uuid.uuid4().hex}")
    replay_task = f"replay-{uuid.uuid4().hex}"
    result = services.replays.run(replay_task, of_task=load_task, table="hired_employees")

    assert result["total"] == {"processed": 6, "inserted": 2, "already_exists": 2, "errors": 2}
    assert _names(engine) == {1: "José Núñez", 2: "Zoë Ångström", 3: "Ana", 6: "Carla"}
    logged = _logged(engine, load_task)
    assert {line for line, (_, by, at) in logged.items() if by == replay_task and at is not None} == {3, 4, 8}
    assert logged[5][:2] == (["id 3 appears earlier in this input; the first occurrence is taken"], None)
    assert logged[6][:2] == (["id 1 exists with other values"], None)
    assert logged[9][:2] == (["datetime '2021-13-01' is not a valid ISO 8601 datetime"], None)
    assert logged[10][:2] == (["expected 5 fields (id, name, datetime, department_id, job_id), found 4"], None)
    batches = services.rows.batches(replay_task, E, 10, 0)
    assert [b["processed"] for b in batches] == [2, 2, 2]

    again = services.replays.run(f"again-{uuid.uuid4().hex}", of_task=load_task, table="hired_employees")
    assert again["total"] == {"processed": 3, "inserted": 0, "already_exists": 2, "errors": 1}
    assert _logged(engine, load_task)[5][:2] == (["id 3 exists with other values"], None)
    assert_summary_equals_the_rows(engine, [2021])  # the reports count the replayed hires, once each

    # Fixed in a spreadsheet and saved back in its own dialect: the export's columns come back as they are.
    fixed = _export(services, load_task)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in fixed:
        if row[5] == "5":
            row[0] = "7"
        elif row[5] == "9":
            row[2] = "2021-12-01T00:00:00Z"
        elif row[5] == "10":
            row[:5] = ["5", "Too few", "2021-01-01T00:00:00Z", "1", "1"]
        writer.writerow(row)
    upload_task = f"upload-{uuid.uuid4().hex}"
    summary = services.ingestion.load_stream(E, io.BytesIO(out.getvalue().encode("cp1252")), source="fixed.csv",
                                             task_id=upload_task, options=ReadOptions(encoding="cp1252"))

    assert summary.totals() == {"processed": 4, "inserted": 3, "already_exists": 1, "errors": 0}
    assert _names(engine)[7] == "Ana Other" and _names(engine)[4] == "Bea"
    logged = _logged(engine, load_task)
    assert {line for line, (_, by, _) in logged.items() if by == upload_task} == {5, 9, 10}
    assert [line for line, (_, by, _) in logged.items() if by is None] == [6]
    assert [r["line_number"] for r in services.rows.rejections(E, load_task, 100, 0)] == [6]
    assert len(services.rows.rejections(E, load_task, 100, 0, resolved=True)) == 6
    assert len(services.rows.rejections(E, load_task, 100, 0, resolved=None)) == 7
    # In rejected_rows order: batches committed side by side may log their rows in either order.
    assert sorted(int(row[5]) for row in _export(services, load_task, None)[1:]) == [3, 4, 5, 6, 8, 9, 10]
    assert assert_summary_equals_the_rows(engine, [2021]) == len(_names(engine))


class _DiesAfter:
    """The store, until a number of commits: then the worker is gone (the batches before it stand)."""

    def __init__(self, store, commits: int) -> None:
        self._store, self._left = store, commits
        self.batches_per_commit, self.commits_in_flight = 1, 0

    def __getattr__(self, name):
        return getattr(self._store, name)

    def commit_batches(self, writes):
        if self._left == 0:
            raise StoreUnavailable("the worker was killed")
        self._left -= 1
        return self._store.commit_batches(writes)


def test_a_replay_run_again_after_its_worker_died_commits_each_batch_once(services, engine):
    load_task = _load_employees(services)
    services.ingestion.load_stream(Table.DEPARTMENTS, io.BytesIO(b"2,Log\n"), source="d2.csv", task_id="d2-x")
    replay_task = f"replay-{uuid.uuid4().hex}"
    dying = Ingestion(_DiesAfter(SqlLoadStore(engine, utc_now), 1), services.blobs, batch_size=2)

    with pytest.raises(StoreUnavailable):
        Replays(dying, SqlRejectionLog(engine)).run(replay_task, of_task=load_task, table="hired_employees")
    assert [b["batch"] for b in services.rows.batches(replay_task, E, 10, 0)] == [1]

    result = services.replays.run(replay_task, of_task=load_task, table="hired_employees")

    assert result["total"] == {"processed": 6, "inserted": 2, "already_exists": 2, "errors": 2}
    assert [b["batch"] for b in services.rows.batches(replay_task, E, 10, 0)] == [1, 2, 3]
    assert {line for line, (_, by, _) in _logged(engine, load_task).items() if by == replay_task} == {3, 4, 8}
