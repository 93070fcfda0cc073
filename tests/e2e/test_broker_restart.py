"""Issue 17: a Redis restarted, or a worker's main process killed, in the middle of a load on PostgreSQL.

The service runs as `make run` runs it (tools.serve: the API and a worker, the worker started again if it
stops), on a Redis of the test's own with its append-only file on, as docker-compose.yml runs it. The API
answers /health throughout, and the load ends SUCCESS by itself within two minutes, every table exact.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa

from config import PROJECT_DIR
from tests.conftest import unavailable
from tests.e2e.conftest import _environment, empty_database
from tests.e2e.test_worker_loss import _generate, assert_loaded_exactly
from tests.net import free_port

LEASE_SECONDS = 10  # short, so a test waits seconds for a lapse; the rules are the same at 60
WITHIN = 120  # the bound: SUCCESS within two minutes of Redis coming back (or the worker's loss)
LANDED = 5_000  # employees committed before the fault, as in the issue


class OwnRedis:
    """A redis-server on a spare loopback port, persisting to an append-only file in the test's folder."""

    def __init__(self, folder: Path) -> None:
        if not shutil.which("redis-server"):
            unavailable("redis-server", "not on PATH")
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--appendonly", "yes",
             "--dir", str(self.folder), "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the test's redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SHUTDOWN: the append-only file is flushed first
            self.process.wait(30)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class HealthWatch(threading.Thread):
    """Asks /health every 0.2 s until stopped; remembers every answer that was not 200."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.asked, self.failures = url, 0, []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.2):
            self.asked += 1
            try:
                status = requests.get(self.url, timeout=5).status_code
            except requests.RequestException as error:
                status = repr(error)
            if status != 200:
                self.failures.append(status)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


class Service:
    """tools.serve, as `make run` starts it, in a process group of its own."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "tools.serve"], cwd=PROJECT_DIR, env=env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait(lambda: self._answers("/ready"), "the service to be ready", 90)

    def _answers(self, path: str) -> bool:
        try:
            return requests.get(self.base + path, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def status(self, task_id: str) -> dict | None:
        try:
            answer = requests.get(f"{self.base}/task-status/{task_id}", timeout=10)
        except requests.RequestException:
            return None
        return answer.json() if answer.status_code == 200 else None

    def finished(self, task_id: str) -> dict | None:
        status = self.status(task_id)
        return status if status and status["state"] in ("SUCCESS", "FAILURE") else None

    def wait(self, condition, what: str, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"tools.serve exited with {self.process.returncode}\n{self.log()}")
            value = condition()
            if value:
                return value
            time.sleep(0.3)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{self.log()}")

    def worker_main_pid(self) -> int:
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(self.process.pid)], capture_output=True,
                             text=True).stdout
        [pid] = [int(line.split()[0]) for line in out.splitlines() if "celery" in line]
        return pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # and any pool process its worker left behind
        except ProcessLookupError:
            pass
        self.process.wait(10)


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def _landed(engine: sa.Engine) -> bool:
    try:
        return _count(engine, "hired_employees") >= LANDED
    except sa.exc.DBAPIError:
        return False


def _load_through_a_fault(tmp_path, challenge_dir, database_url, redis_url, fault) -> tuple[Service, str, float]:
    """Starts a 'make run' on PostgreSQL and the given Redis, starts a load of every table, calls `fault`
    once employees are landing, and checks the load ends SUCCESS by itself within WITHIN seconds of the
    fault's end with every table exact and /health answered throughout. Returns the service, the load's
    task id and the seconds it took."""
    empty_database(database_url)
    engine = sa.create_engine(database_url)
    env = _environment(tmp_path, free_port(), challenge_dir, DATABASE_URL=database_url, CELERY_BROKER_URL=redis_url,
                       CELERY_QUEUE=f"hr-restart-{uuid.uuid4().hex[:8]}", TASK_LEASE_SECONDS=str(LEASE_SECONDS),
                       WORKER_CONCURRENCY="1")
    expected = _generate(Path(env["STORAGE_DIR"]))
    service = Service(env, tmp_path / "serve.log")
    health = HealthWatch(service.base + "/health")
    try:
        health.start()
        task_id = requests.post(f"{service.base}/upload-files", timeout=10).json()["task_id"]
        service.wait(lambda: _landed(engine), "employees to start landing", 180)
        assert _count(engine, "hired_employees") < len(expected), "the load ended before the fault: nothing tested"
        fault(service)
        fault_over = time.monotonic()
        status = service.wait(lambda: service.finished(task_id), "the load to finish", WITHIN)
        took = time.monotonic() - fault_over
        assert status["state"] == "SUCCESS", (status, service.log())
        assert_loaded_exactly(engine, status, task_id, expected)
        for table in ("departments", "jobs"):
            loaded = next(t for t in status["result"]["tables"] if t["table"] == table)["total"]
            assert _count(engine, table) == loaded["inserted"] == loaded["processed"] - loaded["errors"]
        # The API's own connections to Redis came back too: a new load is taken and done.
        again = requests.post(f"{service.base}/departments", timeout=10)
        assert again.status_code == 202, again.text
        assert service.wait(lambda: service.finished(again.json()["task_id"]), "a load after the fault",
                            60)["state"] == "SUCCESS"
        health.stop()
        assert health.asked > 0 and health.failures == [], health.failures
        return service, task_id, took
    finally:
        health.stop()
        service.stop()
        engine.dispose()


def test_a_redis_restart_mid_load_costs_nothing(tmp_path, challenge_dir, postgres_url_e2e, own_redis):
    def restart_redis(_service: Service) -> None:
        own_redis.stop()
        time.sleep(1)
        own_redis.start()

    service, task_id, took = _load_through_a_fault(tmp_path, challenge_dir, postgres_url_e2e, own_redis.url,
                                                   restart_redis)
    print(f"\nthe load ended SUCCESS {took:.1f} s after Redis came back")


def test_an_outage_longer_than_the_lease_lapses_nothing(tmp_path, challenge_dir, postgres_url_e2e, own_redis):
    """Redis away for one and a half leases: the worker and the load go on, the load's end is written once
    Redis is back, and no sweep takes the task over, since only time the registry answered counts."""
    def long_outage(_service: Service) -> None:
        own_redis.stop()
        time.sleep(LEASE_SECONDS * 1.5)
        own_redis.start()

    service, task_id, took = _load_through_a_fault(tmp_path, challenge_dir, postgres_url_e2e, own_redis.url,
                                                   long_outage)
    log = service.log_path.read_text()
    assert "re-queued tasks a dead worker left unfinished" not in log
    finished = [line for line in log.splitlines() if '"message": "load finished"' in line and task_id in line]
    assert len(finished) == 3  # each table once: the load ran once
    assert "could not record a task's end; trying again" in log or "could not record progress" in log
    print(f"\nthe load ended SUCCESS {took:.1f} s after Redis came back from {LEASE_SECONDS * 1.5:.0f} s away")


def test_the_workers_main_process_killed_mid_load_costs_nothing(tmp_path, challenge_dir, postgres_url_e2e,
                                                                  own_redis):
    def kill_worker(service: Service) -> None:
        os.kill(service.worker_main_pid(), signal.SIGKILL)

    service, task_id, took = _load_through_a_fault(tmp_path, challenge_dir, postgres_url_e2e, own_redis.url,
                                                   kill_worker)
    log = service.log_path.read_text()
    assert "the worker process stopped (exit code -9): starting it again" in log
    assert "re-queued tasks a dead worker left unfinished" in log  # by the new worker's sweep
    print(f"\nthe load ended SUCCESS {took:.1f} s after the worker's main process was killed")
