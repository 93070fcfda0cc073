"""A file larger than LOAD_CHUNK_BYTES loads as Celery chords over two worker processes (Redis broker and
result backend, PostgreSQL), with exactly the figures, rows and rejections of one load of it."""
from __future__ import annotations

import json
import shutil
import uuid

import pytest
import requests
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from api.openapi_schemas import SCHEMAS
from config import Settings
from domain.tables import Table
from main import build_services
from tests.challenge import REPORT_2
from tests.e2e.conftest import _environment, _start, _stop, empty_database
from tests.net import free_port
from tests.spreadsheet import resaved

CHUNK_BYTES = 10_000  # the challenge file (~60 kB) in 6 chunks; the doubled one in 13


@pytest.fixture(scope="module")
def chunked_service(tmp_path_factory, challenge_dir, postgres_url_e2e, redis_url):
    empty_database(postgres_url_e2e)
    tmp = tmp_path_factory.mktemp("chunked")
    port = free_port()
    env = _environment(tmp, port, challenge_dir, DATABASE_URL=postgres_url_e2e, CELERY_BROKER_URL=redis_url,
                       CELERY_RESULT_BACKEND=redis_url, CELERY_QUEUE=f"hr-chunks-{uuid.uuid4().hex[:8]}",
                       LOAD_CHUNK_BYTES=str(CHUNK_BYTES))  # two worker processes
    service = _start(env, tmp, port)
    service.database_url = postgres_url_e2e
    for table in ("departments", "jobs"):  # small files: one task each
        task = requests.post(service.url(f"/{table}"), timeout=10).json()["task_id"]
        assert service.wait_for_task(task)["state"] == "SUCCESS"
    yield service
    _stop(service.process)


def _load(service, body: bytes | None = None) -> dict:
    """The challenge file, or the body uploaded as the new employees file."""
    if body is None:
        response = requests.post(service.url("/upload-hired-employees"), timeout=10)
    else:
        response = requests.post(service.url("/upload/hired_employees"), files={"file": ("twice.csv", body)},
                                 timeout=30)
    task_id = response.json()["task_id"]
    status = service.wait_for_task(task_id)
    assert status["state"] == "SUCCESS", (status, service.log())
    return status


def _rejections(database_url: str, task_id: str) -> list[tuple]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT line_number, reasons, raw_text FROM rejected_rows WHERE task_id = :t "
                                    "ORDER BY line_number"), {"t": task_id}).all()
    engine.dispose()
    return [(line, json.loads(reasons) if isinstance(reasons, str) else reasons, raw) for line, reasons, raw in rows]


def _documented(result: dict) -> None:
    """The result as the OpenAPI document describes a LoadSummary (its refs point into the document)."""
    Draft202012Validator({**SCHEMAS["LoadSummary"], "components": {"schemas": SCHEMAS}}).validate(result)


def test_the_challenge_file_in_chunks_gives_the_foundation_figures(chunked_service):
    status = _load(chunked_service)
    result = status["result"]
    _documented(result)
    assert result["total"]["processed"] == 1999
    assert result["total"]["inserted"] == 1929 and result["total"]["errors"] == 70
    assert result["chunks"] >= 5, "the file was not split"
    page = requests.get(chunked_service.url(f"/task-status/{status['task_id']}/batches?limit=1000"),
                        timeout=10).json()
    numbers = [b["batch"] for b in page["items"]]
    assert numbers == list(range(1, len(numbers) + 1)) and page["total"] == len(numbers)
    assert sum(len(b["error_ids"]) for b in page["items"]) == 70
    assert status["progress"]["rows_done"] == 1999
    assert status["progress"]["bytes_done"] == status["progress"]["bytes_total"]
    above = requests.get(chunked_service.url("/report/hiring-above-average?year=2021"), timeout=10).json()["rows"]
    assert [(r["department"], r["hired"]) for r in above] == REPORT_2

    again = _load(chunked_service)["result"]["total"]  # a new task over rows that are all there
    assert (again["inserted"], again["already_exists"], again["errors"]) == (0, 1929, 70)


def test_ids_repeated_across_chunks_go_to_their_first_valid_row_as_in_one_load(chunked_service, challenge_dir,
                                                                                 tmp_path):
    # The challenge rows, then the same rows again in reverse with names quoted: every valid id of the
    # second half repeats one taken chunks earlier, and some of the first half's broken rows now come
    # after a valid row of the same id.
    lines = (challenge_dir / "hired_employees.csv").read_text(encoding="utf-8").splitlines()
    again = []
    for line in reversed(lines):
        fields = line.split(",")
        if len(fields) == 5:
            fields[1] = f'"{fields[1]}, again"'
        again.append(",".join(fields))
    body = "\n".join(lines + again) + "\n"
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "twice.csv").write_text(body, encoding="utf-8")
    for name in ("departments.csv", "jobs.csv"):
        shutil.copyfile(challenge_dir / name, tmp_path / "storage" / name)

    status = _load(chunked_service, body.encode())

    # The reference: one load of the same file, in this process, into SQLite.
    reference = Settings(database_url=f"sqlite:///{tmp_path / 'one.sqlite3'}", storage_dir=tmp_path / "storage",
                         var_dir=tmp_path / "var")
    services = build_services(reference)
    services.upgrade_schema()
    for table in ("departments", "jobs"):
        services.loads.run("parents", table=table)
    one = services.loads.run("one", table="hired_employees", blob="twice.csv")

    chunked_total, one_total = status["result"]["total"], one["total"]
    assert chunked_total["processed"] == one_total["processed"] == 2 * 1999
    assert chunked_total["errors"] == one_total["errors"] > 1999
    # Rows the first test loaded are already there in PostgreSQL, and new in the fresh SQLite. (Rows of the
    # challenge file with no name are valid in the second half, where the name is "<name>, again".)
    assert chunked_total["inserted"] + chunked_total["already_exists"] == one_total["inserted"]
    chunked_batches = requests.get(chunked_service.url(f"/task-status/{status['task_id']}/batches?limit=1000"),
                                   timeout=10).json()["items"]
    one_batches = services.rows.batches("one", Table.HIRED_EMPLOYEES, 1000, 0)
    assert sorted(i for b in chunked_batches for i in b["error_ids"]) == sorted(i for b in one_batches
                                                                               for i in b["error_ids"])
    assert _rejections(chunked_service.database_url, status["task_id"]) == _rejections(reference.database_url, "one")
    assert status["result"]["chunks"] >= 10


def test_a_spreadsheet_s_export_in_chunks_is_read_in_the_dialect_of_the_file_s_start(chunked_service, challenge_dir):
    # `;`, Windows-1252 and the columns in another order: only the first chunk holds the header, and every
    # chunk must read its lines that way.
    plain = b"id,name,datetime,department_id,job_id\n" + (challenge_dir / "hired_employees.csv").read_bytes()
    sheet = resaved(plain, ["job_id", "name", "id", "department_id", "datetime"], ";", "cp1252")
    response = requests.post(chunked_service.url("/upload/hired_employees?encoding=cp1252"),
                             files={"file": ("Empleados.csv", sheet)}, timeout=30)
    status = chunked_service.wait_for_task(response.json()["task_id"])
    assert status["state"] == "SUCCESS", (status, chunked_service.log())
    reference = _load(chunked_service, plain)

    assert status["result"]["chunks"] >= 5 and status["result"]["header_skipped"]
    assert status["result"]["total"] == reference["result"]["total"]
    assert reference["result"]["total"]["errors"] == 70
    reasons = [(line, why) for line, why, _ in _rejections(chunked_service.database_url, status["task_id"])]
    assert reasons == [(line, why) for line, why, _ in _rejections(chunked_service.database_url,
                                                                    reference["task_id"])]


def test_a_chunk_that_fails_fails_the_load_and_says_so(chunked_service):
    engine = sa.create_engine(chunked_service.database_url)
    with engine.begin() as conn:  # every chunk's commit now meets a table that is not there
        conn.execute(sa.text("ALTER TABLE hired_employees RENAME TO hired_employees_away"))
    try:
        task_id = requests.post(chunked_service.url("/upload-hired-employees"), timeout=10).json()["task_id"]
        status = chunked_service.wait_for_task(task_id)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE hired_employees_away RENAME TO hired_employees"))
        engine.dispose()
    assert status["state"] == "FAILURE" and status["finished_at"]
    # The chunk's own error, in the words a client may read: its kind, not its SQL.
    assert status["error"] == "internal error (UndefinedTable); the worker's log has the details"
