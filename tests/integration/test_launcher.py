"""`make run`'s launcher: without an API key it listens on loopback only, and says so."""
from __future__ import annotations

import logging
import subprocess
import sys
import time

from config import Settings
from tools.serve import Backoff, commands, is_loopback, listen_host, supervise


def test_without_a_key_a_public_host_is_refused_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="serve"):
        assert listen_host(Settings(host="0.0.0.0")) == "127.0.0.1"
    assert "API_KEY is not set" in caplog.text and "0.0.0.0" in caplog.text


def test_with_a_key_or_on_loopback_the_host_is_kept():
    assert listen_host(Settings(host="0.0.0.0", api_key="k")) == "0.0.0.0"
    assert listen_host(Settings(host="::1")) == "::1"
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2", "10.0.0.1", "example.org")] == [
        True, True, False, False]


def test_the_api_and_a_worker_are_started_together():
    started = commands(Settings(port=8123), "127.0.0.1")
    assert "127.0.0.1:8123" in started["api"] and "main:create_app()" in started["api"]
    assert started["worker"][2:5] == ["celery", "-A", "main"]


def test_the_pause_before_a_worker_restart_grows_to_a_cap_and_starts_over_once_it_settled():
    backoff = Backoff(first=1, cap=8, settled=120)
    assert [backoff.pause(ran_for=2) for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    assert backoff.pause(ran_for=300) == 1
    assert backoff.pause(ran_for=2) == 2


def _process(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", *argv])


def test_a_worker_that_dies_is_started_again_and_the_api_is_left_alone(caplog):
    """Real processes: the 'worker' exits at once each time; the 'API' lives until it is stopped."""
    api = _process("import time; time.sleep(60)")
    processes = {"api": api, "worker": _process("raise SystemExit(3)")}
    workers, pauses = [], []

    def start_worker() -> subprocess.Popen:
        worker = _process("raise SystemExit(3)")
        workers.append(worker)
        if len(workers) == 3:
            api.terminate()  # the third restart done, stop the test's API: supervise returns
            api.wait(10)
        return worker

    def sleep(seconds: float) -> None:
        if seconds >= 1:
            pauses.append(seconds)
        time.sleep(0.05)

    try:
        with caplog.at_level(logging.ERROR, logger="serve"):
            supervise(processes, start_worker, Backoff(first=1, cap=4), sleep=sleep)
    finally:
        api.kill()
        api.wait(10)
    for worker in workers:
        worker.wait(10)
    assert len(workers) == 3 and pauses == [1, 2, 4]
    assert [r.getMessage() for r in caplog.records][0] == (
        "the worker process stopped (exit code 3): starting it again in 1 s (restart 1); the API stays up")
    assert "restart 3" in caplog.text
