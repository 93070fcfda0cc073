"""Scale-out over worker processes: one employee load through the real queue, as one task and as chunks.

A measurement, not a test. For each configuration a fresh PostgreSQL database gets the parents, a
Celery worker starts with N processes (Redis as broker and result backend, a queue of its own), the load
is submitted as the API submits it, and the time runs from submission to the task's recorded end.
The peak RSS is the largest of the pool processes'.

    .venv/bin/python tools/scale_out.py --data /tmp/big [--processes 1 2] [--chunk-bytes 8388608]

The first line is the load as one task on one process (chunks off), the baseline of the others.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

import redis  # noqa: E402

from config import Settings  # noqa: E402
from domain.tables import Table  # noqa: E402
from main import build_services  # noqa: E402
from tools.bench import LOAD_CHILD, POSTGRES, Database  # noqa: E402

REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
NO_CHUNKS = 1 << 62
READY_SECONDS = 60
LOAD_SECONDS = 1800


def _worker(env: dict[str, str], processes: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "main", "worker", "--pool", "prefork",
                                   "--concurrency", str(processes), "--loglevel", "INFO"],
                                  cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    deadline = time.monotonic() + READY_SECONDS
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            _stop(worker)
            sys.exit(f"the worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return worker


def _busy_core_seconds() -> float | None:
    """The CPU time this machine's cores have worked since boot (/proc/stat: user, nice, system, irq and
    softirq; not idle, waiting for disks, or stolen by the host for others); None where there is no /proc. Over
    a load, it shows whether the cores, not the load's shape, bound it."""
    try:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    except OSError:
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _pool_peak_rss_mb(worker: subprocess.Popen) -> float:
    """The largest VmHWM among the worker's pool processes: what one of them needed at most."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(worker.pid)], capture_output=True, text=True).stdout
    peaks = []
    for pid in out.split():
        with open(f"/proc/{pid}/status") as status:
            peaks += [int(line.split()[1]) for line in status if line.startswith("VmHWM")]
    return round(max(peaks) / 1024, 1)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def run(data: Path, processes: int, chunk_bytes: int, tmp: Path) -> dict:
    queue = f"hr-scale-{uuid.uuid4().hex[:8]}"
    with Database(POSTGRES) as db:
        subprocess.run([sys.executable, LOAD_CHILD, db.url, str(data), "--parents-only"], cwd=PROJECT_DIR,
                       check=True, capture_output=True)
        settings = {"DATABASE_URL": db.url, "CELERY_BROKER_URL": REDIS, "CELERY_RESULT_BACKEND": REDIS,
                    "CELERY_QUEUE": queue, "STORAGE_DIR": str(data), "VAR_DIR": str(tmp / queue),
                    "LOAD_CHUNK_BYTES": str(chunk_bytes)}
        env = {**os.environ, **settings}
        worker = _worker(env, processes, tmp / f"{queue}.log")
        try:
            services = build_services(Settings.from_env(settings, env_file=None))
            started, busy_before = time.perf_counter(), _busy_core_seconds()
            task_id = services.load_requests.load_table(Table.HIRED_EMPLOYEES)
            deadline = time.monotonic() + LOAD_SECONDS
            while not (record := services.tasks.status(task_id)).state.finished:
                if time.monotonic() > deadline:
                    sys.exit(f"the load did not finish in {LOAD_SECONDS} s")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            busy = None if busy_before is None else _busy_core_seconds() - busy_before
            peak_rss_mb = _pool_peak_rss_mb(worker)
            status_bytes, status_ms = _status_answer(settings, task_id)
        finally:
            _stop(worker)
            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(f"{queue}*"):
                client.delete(key)
        if record.state.value != "SUCCESS":
            sys.exit(f"the load failed: {record.error}")
    total = record.result["total"]
    chunks = record.result.get("chunks", 1)
    return {"processes": processes, "chunks": chunks, "seconds": round(seconds, 2), "peak_rss_mb": peak_rss_mb,
            "rows_per_second": round(total["processed"] / seconds), "processed": total["processed"],
            "inserted": total["inserted"], "errors": total["errors"], "status_bytes": status_bytes,
            "status_ms": status_ms, "cores_busy": None if busy is None else round(busy / seconds, 2)}


def _status_answer(settings: dict[str, str], task_id: str) -> tuple[int, float]:
    """The size of GET /task-status/<id> for the finished load, and its median time of 20, answered by the
    service's own app (in this process, no network)."""
    from main import create_app

    client = create_app(Settings.from_env(settings, env_file=None)).test_client()
    times, size = [], 0
    for _ in range(20):
        started = time.perf_counter()
        answer = client.get(f"/task-status/{task_id}")
        times.append((time.perf_counter() - started) * 1000)
        size = len(answer.get_data())
    return size, round(sorted(times)[len(times) // 2], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder made by `flask generate`")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk-bytes", type=int, default=Settings.load_chunk_bytes)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(args.data, 1, NO_CHUNKS, Path(tmp))]
        results += [run(args.data, n, args.chunk_bytes, Path(tmp)) for n in args.processes]
    base = results[0]["seconds"]
    for result in results:
        result["speed_up"] = round(base / result["seconds"], 2)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
