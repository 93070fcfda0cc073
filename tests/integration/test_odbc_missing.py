"""Azure SQL on a machine without unixODBC or without the ODBC driver (as CI's is): one clear line, not a traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from config import PROJECT_DIR, Settings, database_url
from infra.db.odbc import driver_name
from main import create_app

# A driver no machine has, so that a machine with unixODBC shows the other case: the driver named as missing.
ODBC = "Driver={ODBC Driver 99 for SQL Server};Server=tcp:127.0.0.1,9;Database=hr;Uid=u;Pwd=p;Encrypt=yes"


def _expected_words() -> tuple[str, ...]:
    try:
        import pyodbc  # noqa: F401
    except ImportError:
        return "unixODBC", "libodbc", "msodbcsql18"
    return "ODBC Driver 99 for SQL Server", "not installed", "msodbcsql18"


def test_init_db_says_in_one_line_what_is_missing_and_fails(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "AZURE_"))}
    env.update(AZURE_SQL_CONNECTION_STRING=ODBC, VAR_DIR=str(tmp_path / "var"), STORAGE_DIR=str(tmp_path / "s"))
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "main", "init-db"], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert all(word in lines[0] for word in _expected_words()), lines[0]


def test_ready_names_the_missing_piece_and_reads_answer_503(tmp_path):
    url = database_url({"AZURE_SQL_CONNECTION_STRING": ODBC})
    app = create_app(Settings(database_url=url, storage_dir=tmp_path / "storage", var_dir=tmp_path / "var"))
    client = app.test_client()
    ready = client.get("/ready")
    assert ready.status_code == 503
    checks = ready.get_json()["checks"]
    assert checks["database"].startswith("down: DependencyMissing: ")
    assert all(word in checks["database"] for word in _expected_words())
    assert client.get("/health").status_code == 200
    read = client.get("/departments")
    assert read.status_code == 503 and "msodbcsql18" in read.get_json()["detail"]


def test_the_driver_is_read_from_the_connection_string():
    assert driver_name(sa.make_url(database_url({"AZURE_SQL_CONNECTION_STRING": ODBC}))) == \
        "ODBC Driver 99 for SQL Server"
    plain = sa.make_url(database_url({"AZURE_SQL_CONNECTION_STRING": "Server=x;driver=FreeTDS;Uid=u"}))
    assert driver_name(plain) == "FreeTDS"


def test_make_run_stops_before_starting_anything_when_the_schema_cannot_be_set_up(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "AZURE_"))}
    env.update(AZURE_SQL_CONNECTION_STRING=ODBC, VAR_DIR=str(tmp_path / "var"), STORAGE_DIR=str(tmp_path / "s"),
               PORT="1")  # nothing may listen: it must stop before starting the API
    done = subprocess.run([sys.executable, "-m", "tools.serve"], cwd=PROJECT_DIR, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert "msodbcsql18" in done.stderr and "nothing started" in done.stderr
