"""`make run`: bring the schema up to date, then run the API (gunicorn) and a Celery worker together.

Ctrl-C (or SIGTERM) stops both. A worker that stops by itself (a broker outage it did not survive, a
crash, a kill) is started again after a pause that grows, and the API stays up meanwhile: the tasks it
was running are taken over once their lease lapses (core.leases). If the API stops, the worker is
stopped too."""
from __future__ import annotations

import ipaddress
import logging
import os
import signal
import subprocess
import sys
import time

from config import PROJECT_DIR, Settings

log = logging.getLogger("serve")
STOP_GRACE_SECONDS = 20


class Backoff:
    """The pause before starting a worker again: doubles at each restart up to `cap`, and starts over
    once a worker has run `settled` seconds, so a worker that keeps crashing does not spin."""

    def __init__(self, first: float = 1.0, cap: float = 60.0, settled: float = 120.0) -> None:
        self._first, self._cap, self._settled = first, cap, settled
        self._next = first

    def pause(self, ran_for: float) -> float:
        if ran_for >= self._settled:
            self._next = self._first
        pause, self._next = self._next, min(self._next * 2, self._cap)
        return pause


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen_host(settings: Settings) -> str:
    """Without an API key nothing but this machine may reach the service."""
    if settings.api_key or is_loopback(settings.host):
        return settings.host
    log.warning("API_KEY is not set: refusing to listen on %s, listening on 127.0.0.1 only", settings.host)
    return "127.0.0.1"


def commands(settings: Settings, host: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "api": [python, "-m", "gunicorn", "--bind", f"{host}:{settings.port}", "--workers", "2",
                "--threads", "4", "main:create_app()"],  # the app logs each request as JSON
        # Gossip and mingle (worker-to-worker events and start-up sync) serve nothing here, and their
        # restart after a lost broker connection is where Celery/kombu's known reconnection bugs lie.
        "worker": [python, "-m", "celery", "-A", "main", "worker", "--loglevel", "INFO", "--without-gossip",
                   "--without-mingle", "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2")],
    }


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def supervise(processes: dict[str, subprocess.Popen], start_worker, backoff: Backoff,
              sleep=time.sleep, clock=time.monotonic) -> None:
    """Returns when the API stops; starts the worker again each time it stops, and logs each restart."""
    restarts, worker_since = 0, clock()
    while processes["api"].poll() is None:
        code = processes["worker"].poll()
        if code is not None:
            restarts += 1
            pause = backoff.pause(clock() - worker_since)
            log.error("the worker process stopped (exit code %s): starting it again in %.0f s (restart %d); "
                      "the API stays up", code, pause, restarts)
            sleep(pause)
            processes["worker"] = start_worker()
            worker_since = clock()
        sleep(0.5)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    host = listen_host(settings)
    schema = subprocess.run([sys.executable, "-m", "flask", "--app", "main", "init-db"], cwd=PROJECT_DIR)
    if schema.returncode != 0:  # init-db has said why in one line: no traceback of ours on top
        log.error("the schema could not be brought up to date: nothing started")
        return schema.returncode
    started = commands(settings, host)
    processes = {name: subprocess.Popen(cmd, cwd=PROJECT_DIR) for name, cmd in started.items()}
    log.info("API listening on http://%s:%d (worker started; Ctrl-C stops both)", host, settings.port)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        supervise(processes, lambda: subprocess.Popen(started["worker"], cwd=PROJECT_DIR), Backoff())
        log.error("the API process stopped (exit code %s): stopping the worker", processes["api"].returncode)
        return 1
    except KeyboardInterrupt:
        log.info("stopping the API and the worker")
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
