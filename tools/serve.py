"""`make run`: bring the schema up to date, then run the API (gunicorn) and a Celery worker together.

Ctrl-C (or SIGTERM) stops both; if either stops by itself, the other is stopped too."""
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
        "worker": [python, "-m", "celery", "-A", "main", "worker", "--loglevel", "INFO",
                   "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2")],
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


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    host = listen_host(settings)
    subprocess.run([sys.executable, "-m", "flask", "--app", "main", "init-db"], cwd=PROJECT_DIR, check=True)
    processes = {name: subprocess.Popen(cmd, cwd=PROJECT_DIR) for name, cmd in commands(settings, host).items()}
    log.info("API listening on http://%s:%d (worker started; Ctrl-C stops both)", host, settings.port)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        ended = next(name for name, p in processes.items() if p.poll() is not None)
        log.error("the %s process stopped (exit code %s): stopping the rest", ended, processes[ended].returncode)
        return 1
    except KeyboardInterrupt:
        log.info("stopping the API and the worker")
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
