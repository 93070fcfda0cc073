"""A real server and a real worker, started as processes the way `make run` starts them."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from config import PROJECT_DIR
from domain.tables import LOAD_ORDER
from tests.net import free_port

STARTUP_SECONDS = 60


@dataclass
class LiveService:
    base_url: str
    storage_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait_for_task(self, task_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = requests.get(self.url(f"/task-status/{task_id}"), timeout=10).json()
            if status["state"] in ("SUCCESS", "FAILURE"):
                return status
            time.sleep(0.3)
        raise AssertionError(f"task {task_id} did not finish in {timeout} s; last status {status}\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


def _start(env: dict[str, str], tmp: Path, port: int) -> LiveService:
    log_path = tmp / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "tools.serve"], cwd=PROJECT_DIR, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    service = LiveService(f"http://127.0.0.1:{port}", Path(env["STORAGE_DIR"]), log_path)
    service.process = process
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the service exited with {process.returncode}:\n{service.log()}")
        try:
            if requests.get(service.url("/ready"), timeout=10).status_code == 200:
                return service
        except requests.RequestException:
            pass  # not listening yet, or still booting its workers
        time.sleep(0.3)
    _stop(process)
    raise AssertionError(f"the service was not ready within {STARTUP_SECONDS} s:\n{service.log()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def empty_database(database_url: str) -> None:
    """A PostgreSQL database the e2e modules share, emptied: an earlier module may have left rows."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _environment(tmp: Path, port: int, challenge_dir: Path, **settings: str) -> dict[str, str]:
    storage = tmp / "storage"
    storage.mkdir(parents=True)
    for table in LOAD_ORDER:
        shutil.copyfile(challenge_dir / table.file_name, storage / table.file_name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "AZURE_", "API_KEY"))}
    # A short lease: a test that loses a worker waits seconds, not a minute, for the lapse.
    env.update({"HOST": "127.0.0.1", "PORT": str(port), "VAR_DIR": str(tmp / "var"), "STORAGE_DIR": str(storage),
                "WORKER_CONCURRENCY": "2", "TASK_LEASE_SECONDS": "10", **settings})
    return env


@pytest.fixture(scope="module", params=["embedded", "postgres_redis"])
def live_service(request, tmp_path_factory, challenge_dir):
    """The service in both configurations: SQLite with the no-server broker, and PostgreSQL with Redis."""
    tmp = tmp_path_factory.mktemp(f"live-{request.param}")
    port = free_port()
    if request.param == "embedded":
        env = _environment(tmp, port, challenge_dir, DATABASE_URL=f"sqlite:///{tmp / 'hr.sqlite3'}")
    else:
        database = request.getfixturevalue("postgres_url_e2e")
        empty_database(database)  # whatever the modules before this one left
        redis_url = request.getfixturevalue("redis_url")
        env = _environment(tmp, port, challenge_dir, DATABASE_URL=database, CELERY_BROKER_URL=redis_url,
                           CELERY_QUEUE=f"hr-e2e-{uuid.uuid4().hex[:8]}")
    service = _start(env, tmp, port)
    yield service
    _stop(service.process)
