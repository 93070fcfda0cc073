"""A worker killed with SIGKILL in the middle of a load loses nothing and duplicates nothing."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

from config import PROJECT_DIR
from core.sample_data import write_samples
from tests.e2e.conftest import _environment, empty_database
from tests.net import free_port
from tests.summaries import assert_summary_equals_the_rows

ROWS = 300_000
WAIT = 300
GENERATED_YEARS = (2020, 2021, 2022, 2023)  # flask generate's hires fall in 2021 and 2022; the edges are checked too


def _generate(storage: Path) -> set[int]:
    """Writes the three files; returns the ids of the employee rows that break no rule."""
    names = ("departments.csv", "jobs.csv", "hired_employees.csv")
    files = [(storage / name).open("w", encoding="utf-8", newline="") for name in names]
    try:
        write_samples(*files, rows=ROWS, seed=7)
    finally:
        for f in files:
            f.close()
    with (storage / "hired_employees.csv").open(encoding="utf-8", newline="") as source:
        return {int(row[0]) for row in csv.reader(source) if all(field.strip() for field in row)}


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, []

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}-{len(self.running)}.log").open("wb")
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running.append(process)
        return process

    def api(self, port: int) -> subprocess.Popen:
        subprocess.run([sys.executable, "-m", "flask", "--app", "main", "init-db"], cwd=PROJECT_DIR, env=self.env,
                       check=True, capture_output=True)
        return self.start("api", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                  "--threads", "4", "main:create_app()"])

    def worker(self, concurrency: int = 1) -> subprocess.Popen:
        return self.start("worker", [sys.executable, "-m", "celery", "-A", "main", "worker", "--pool", "prefork",
                                     "--concurrency", str(concurrency), "--loglevel", "INFO"])

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def tail(self) -> str:
        logs = sorted(self.logs.glob("*.log"))
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)


def _wait(condition, what: str, processes: Processes, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}\n{processes.tail()}")


def _employees(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM hired_employees")).scalars().all()


def _logged_rejections(engine: sa.Engine, task_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM rejected_rows WHERE task_id = :t"),
                            {"t": task_id}).scalar_one()


def assert_loaded_exactly(engine: sa.Engine, status: dict, task_id: str, expected: set[int]) -> None:
    """The load ended SUCCESS with every valid employee once, every other row rejected and logged once."""
    assert status["state"] == "SUCCESS", status
    ids = _employees(engine)
    assert len(ids) == len(expected) and set(ids) == expected
    employees = next(t for t in status["result"]["tables"] if t["table"] == "hired_employees")
    assert employees["total"]["processed"] == ROWS
    assert employees["total"]["inserted"] + employees["total"]["already_exists"] == len(expected)
    assert employees["total"]["errors"] == ROWS - len(expected)
    assert _logged_rejections(engine, task_id) == ROWS - len(expected)
    # The reports' summary counts each hire once: a batch the killed worker left uncommitted added nothing.
    assert assert_summary_equals_the_rows(engine, GENERATED_YEARS) == len(expected)


def _pool_children(worker: subprocess.Popen) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(worker.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def _kill_mid_load_and_check(tmp: Path, env: dict[str, str], database_url: str, kill, restart_worker: bool):
    expected = _generate(Path(env["STORAGE_DIR"]))
    processes = Processes(env, tmp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        processes.api(port)
        worker = processes.worker()
        _wait(lambda: _get(f"{base}/health"), "the API", processes, 60)
        task_id = requests.post(f"{base}/upload-files", timeout=10).json()["task_id"]
        engine = sa.create_engine(database_url)
        _wait(lambda: _employees_landed(engine), "employees to start landing", processes)
        kill(worker)
        assert len(_employees(engine)) < len(expected), "the load ended before the kill: nothing was tested"
        if restart_worker:
            processes.worker()
        status = _wait(lambda: _finished(f"{base}/task-status/{task_id}"), "the task to finish", processes)
        assert status["state"] == "SUCCESS", (status, processes.tail())
        assert_loaded_exactly(engine, status, task_id, expected)
        engine.dispose()
        if restart_worker:
            assert "re-queued tasks a dead worker left unfinished" in processes.tail()
    finally:
        processes.stop_all()


def _get(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _finished(url: str) -> dict | None:
    status = requests.get(url, timeout=10).json()
    return status if status["state"] in ("SUCCESS", "FAILURE") else None


def _employees_landed(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM hired_employees")).scalar_one() >= 20_000
    except sa.exc.DBAPIError:
        return False


def test_pool_process_killed_on_postgres_and_redis(tmp_path, challenge_dir, postgres_url_e2e, redis_url):
    database_url = postgres_url_e2e
    empty_database(database_url)
    env = _environment(tmp_path, 0, challenge_dir, DATABASE_URL=database_url, CELERY_BROKER_URL=redis_url,
                       CELERY_QUEUE=f"hr-kill-{uuid.uuid4().hex[:8]}")

    def kill_pool_process(worker: subprocess.Popen) -> None:
        children = _pool_children(worker)
        assert children, "the prefork worker has no pool process"
        for pid in children:
            os.kill(pid, signal.SIGKILL)

    _kill_mid_load_and_check(tmp_path, env, database_url, kill_pool_process, restart_worker=False)


def test_whole_worker_killed_on_the_embedded_default(tmp_path, challenge_dir):
    database_url = f"sqlite:///{tmp_path / 'hr.sqlite3'}"
    env = _environment(tmp_path, 0, challenge_dir, DATABASE_URL=database_url)

    def kill_worker_and_its_pool(worker: subprocess.Popen) -> None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

    _kill_mid_load_and_check(tmp_path, env, database_url, kill_worker_and_its_pool, restart_worker=True)


def test_pool_process_killed_during_a_chunked_load(tmp_path, challenge_dir, postgres_url_e2e, redis_url):
    """Chunks of one file on two worker processes (Redis broker and results): a chunk whose process
    dies is delivered again, and the load ends with every row once and every rejection logged once."""
    database_url = postgres_url_e2e
    empty_database(database_url)
    engine = sa.create_engine(database_url)
    env = _environment(tmp_path, 0, challenge_dir, DATABASE_URL=database_url, CELERY_BROKER_URL=redis_url,
                       CELERY_RESULT_BACKEND=redis_url, CELERY_QUEUE=f"hr-kill-chunks-{uuid.uuid4().hex[:8]}",
                       LOAD_CHUNK_BYTES=str(2 << 20))
    expected = _generate(Path(env["STORAGE_DIR"]))
    processes = Processes(env, tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        processes.api(port)
        worker = processes.worker(concurrency=2)
        _wait(lambda: _get(f"{base}/health"), "the API", processes, 60)
        for table in ("departments", "jobs"):
            parent = requests.post(f"{base}/{table}", timeout=10).json()["task_id"]
            _wait(lambda parent=parent: _finished(f"{base}/task-status/{parent}"), f"the {table}", processes)
        task_id = requests.post(f"{base}/upload-hired-employees", timeout=10).json()["task_id"]
        _wait(lambda: _employees_landed(engine), "employees to start landing", processes)
        children = _pool_children(worker)
        assert len(children) == 2, "the prefork worker does not have its two pool processes"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        assert len(_employees(engine)) < len(expected), "the load ended before the kill: nothing was tested"
        status = _wait(lambda: _finished(f"{base}/task-status/{task_id}"), "the task to finish", processes)
        worker_log = "".join(log.read_text(errors="replace") for log in tmp_path.glob("worker-*.log"))
        assert "WorkerLostError" in worker_log, "no chunk was under way when its process died"
        assert status["state"] == "SUCCESS", (status, processes.tail())
        total = status["result"]["total"]
        assert status["result"]["chunks"] >= 4
        assert set(_employees(engine)) == expected and len(_employees(engine)) == len(expected)
        assert (total["processed"], total["inserted"], total["errors"]) == (ROWS, len(expected), ROWS - len(expected))
        assert _logged_rejections(engine, task_id) == ROWS - len(expected)
        assert assert_summary_equals_the_rows(engine, GENERATED_YEARS) == len(expected)
    finally:
        processes.stop_all()
        engine.dispose()
