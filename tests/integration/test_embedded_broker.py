"""Experiment: with no Redis, which kombu transport carries a Celery task to a separate worker process?

Candidates: kombu's SQLAlchemy transport on a SQLite file (`sqla+sqlite:///path`) and the filesystem
transport (`filesystem://` with data_folder_in/out, processed_folder and control_folder). Each test
builds a minimal Celery app in a temporary folder, starts a real `celery worker` (prefork, one child)
as a subprocess, sends tasks from other processes and watches the files the tasks write.

Findings with celery 5.7.0, kombu 5.7.0, SQLAlchemy 2.1.9 (these tests are the proof):
- Both deliver: a task sent before any worker exists waits in the store, and 3 concurrent producers'
  messages each run exactly once.
- Neither redelivers the task of a worker killed hard (SIGKILL, OOM, power loss), even with
  acks_late: the message leaves the store when it is fetched and there is no visibility timeout. The
  task registry's unfinished() is what lets a restarted worker see such tasks.
- sqla never deletes a message, it only hides it (`visible = 0`): the table grows without bound. Under
  SQLAlchemy 2.1 kombu's models also warn "The ``noload`` loader strategy is deprecated and will be
  removed in a future release" on first use, so a later SQLAlchemy may break the transport.
- sqla passes every transport option to SQLAlchemy's create_engine, so `polling_interval` cannot be
  set ("TypeError: Invalid argument(s) 'polling_interval' sent to create_engine()"): it polls once a
  second, and with acks_late and a prefetch of 1 a worker takes about one task per second.
- filesystem needs every folder set explicitly (control_folder defaults to ./control of the working
  directory); with store_processed the fetched messages are renamed into processed_folder (atomic on
  one file system) and kept there until pruned.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import PROJECT_DIR
from infra.broker.celery_app import ATOMIC_FILESYSTEM, embedded_broker

APP = '''
import json, os, sys, time
from celery import Celery

app = Celery("experiment_app", broker=os.environ["EXPERIMENT_BROKER_URL"])
app.conf.broker_transport_options = json.loads(os.environ["EXPERIMENT_TRANSPORT_OPTIONS"])
app.conf.broker_transport = os.environ.get("EXPERIMENT_TRANSPORT") or None
app.conf.task_ignore_result = True
app.conf.task_acks_late = True
app.conf.worker_prefetch_multiplier = 1
app.conf.broker_connection_retry_on_startup = True


@app.task(name="experiment.write")
def write(path, text):
    with open(path, "a", encoding="utf-8") as out:
        out.write(text + "\\n")


@app.task(name="experiment.slow")
def slow(path):
    write(path, "started")
    time.sleep(60)


if __name__ == "__main__":  # producer: python experiment_app.py OUT_DIR FIRST STOP
    out, first, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for n in range(first, stop):
        app.send_task("experiment.write", args=[f"{out}/{n}.txt", str(n)])
'''

TASKS = 16  # one sent before the worker starts, then 3 producers of 5: sqla runs about one a second
WAIT = 60  # seconds any one step may take before the experiment counts as failed


def _sqla(tmp: Path) -> tuple[str, dict]:
    return f"sqla+sqlite:///{tmp / 'broker.sqlite3'}", {}


def _product(tmp: Path) -> tuple[str, dict]:
    """What the service itself uses: kombu's filesystem transport with atomic writes."""
    url, options = embedded_broker(tmp / "var")
    for key in ("data_folder_in", "control_folder"):
        Path(options[key]).mkdir(parents=True)
    return url, options


# The product's transport is what the suite keeps proving; kombu's own filesystem transport and sqla
# were the candidates (the findings above), and plain filesystem lost messages to half-written files.
@pytest.fixture(params=["product"])
def experiment(request, tmp_path):
    url, options = _product(tmp_path)
    return Experiment(request.param, tmp_path, url, options, transport_class=ATOMIC_FILESYSTEM)


class Experiment:
    def __init__(self, transport: str, folder: Path, url: str, options: dict, transport_class: str = "") -> None:
        self.transport = transport
        self.folder = folder
        self.out = folder / "out"
        self.out.mkdir()
        (folder / "experiment_app.py").write_text(APP, encoding="utf-8")
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(PROJECT_DIR)]),
                    "EXPERIMENT_TRANSPORT": transport_class, "EXPERIMENT_BROKER_URL": url,
                    "EXPERIMENT_TRANSPORT_OPTIONS": json.dumps(options), "PYTHONWARNINGS": "default"}
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    def send(self, first: int, stop: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "experiment_app.py", str(self.out), str(first), str(stop)],
                                cwd=self.folder, env=self.env)

    def send_slow(self, path: Path) -> None:
        code = f"from experiment_app import slow; slow.delay({str(path)!r})"
        subprocess.run([sys.executable, "-c", code], cwd=self.folder, env=self.env, check=True, timeout=WAIT)

    def start_worker(self) -> subprocess.Popen:
        log = self.folder / f"worker{len(self.workers)}.log"
        with log.open("wb") as sink:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "experiment_app", "worker", "--pool=prefork", "-c", "1",
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
                cwd=self.folder, env=self.env, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True)  # its own process group: the pool's child dies with it
        self.workers.append((worker, log))
        self.wait_for(lambda: b" ready." in log.read_bytes(), "the worker to be ready")
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        try:
            os.killpg(worker.pid, signal.SIGKILL)  # the group this test started, pool child included
        except ProcessLookupError:
            pass
        worker.wait(timeout=WAIT)

    def stop_all(self) -> None:
        for worker, _ in self.workers:
            self.kill(worker)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:] for _, log in self.workers)

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{self.transport}: timed out waiting for {what}\n{self.logs()}")
            if any(w.poll() is not None for w, _ in self.workers if w.returncode != -signal.SIGKILL):
                pytest.fail(f"{self.transport}: a worker exited while waiting for {what}\n{self.logs()}")
            time.sleep(0.2)

    def written(self) -> dict[str, list[str]]:
        return {p.stem: p.read_text().split() for p in self.out.glob("*.txt")}


def test_tasks_reach_a_separate_worker_exactly_once(experiment):
    try:
        assert experiment.send(0, 1).wait(timeout=WAIT) == 0  # no worker yet: the message must wait
        experiment.start_worker()
        producers = [experiment.send(1 + 5 * k, 1 + 5 * (k + 1)) for k in range(3)]
        assert [p.wait(timeout=WAIT) for p in producers] == [0, 0, 0]
        experiment.wait_for(lambda: len(experiment.written()) == TASKS, f"{TASKS} task files")
        time.sleep(2.5)  # a duplicate delivery would show up as a second line within a poll or two
        assert experiment.written() == {str(n): [str(n)] for n in range(TASKS)}
    finally:
        experiment.stop_all()
    # every message was taken off the queue, and no half-written one was ever left behind
    assert not list((experiment.folder / "var" / "broker" / "queue").iterdir())


def test_a_hard_killed_worker_loses_its_in_flight_task(experiment):
    """No visibility timeout on either transport: acks_late does not bring the task back."""
    marker = experiment.out / "slow.log"
    try:
        first = experiment.start_worker()
        experiment.send_slow(marker)
        experiment.wait_for(marker.exists, "the slow task to start")
        experiment.kill(first)
        experiment.start_worker()
        assert experiment.send(0, 1).wait(timeout=WAIT) == 0  # queued behind the lost one, were it back
        experiment.wait_for(lambda: "0" in experiment.written(), "a task sent after the restart")
    finally:
        experiment.stop_all()
    assert marker.read_text().split() == ["started"], "the killed task was redelivered"


def test_sqla_hands_its_transport_options_to_create_engine(tmp_path):
    """So its 1-second polling cannot be shortened: with acks_late and a prefetch of 1, a worker
    takes about one task per second."""
    experiment = Experiment("sqla", tmp_path, _sqla(tmp_path)[0], {"polling_interval": 0.2})
    producer = subprocess.run([sys.executable, "experiment_app.py", str(experiment.out), "0", "1"],
                              cwd=tmp_path, env=experiment.env, capture_output=True, text=True, timeout=WAIT)
    assert producer.returncode != 0
    assert "Invalid argument(s) 'polling_interval' sent to create_engine()" in producer.stderr
