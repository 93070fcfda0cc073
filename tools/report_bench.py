"""The reports' figures for `make bench` (issue 18, reports in constant time), on the local PostgreSQL.

- Each report's p50 over the HTTP API (gunicorn as `make run` starts it: 2 workers, 4 threads each) at each
  size of BENCH_REPORT_ROWS (default 1M and 5M employees), beside the same report counted from the rows.
  The employees are written by SQL (generate_series: random departments, jobs and moments, 85% in 2021 as
  `flask generate` makes them) and the summary rebuilt from them, which is what loading them would leave
  (tests/integration/test_hire_summaries.py); the answers from the summary are compared with those from
  the rows before any timing.
- Report 2 under 16 concurrent connections for 10 s: requests/s and errors.
- A load's time with the summary kept and without it (tools/load_child.py --without-summaries), medians of
  3 runs each, taken in turns.

Run by tools/bench.py; alone: `python tools/report_bench.py DATA_DIR` (a folder `flask generate` wrote).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from tools.bench import LOAD_CHILD, POSTGRES, Database, load_parents, psql, run_child, schema, timed  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_REPORT_ROWS", "1000000 5000000").split()]
YEAR = 2021
PATHS = {"hired-by-quarter": f"/report/hired-by-quarter?year={YEAR}",
         "hiring-above-average": f"/report/hiring-above-average?year={YEAR}"}
SEQUENTIAL = 200  # requests per report for its p50
CLIENTS, SECONDS = 16, 10
LOAD_RUNS = 3


def _hires_sql(rows: int, departments: int, jobs: int) -> str:
    return (f"INSERT INTO hired_employees (id, name, datetime, department_id, job_id) "
            f"SELECT g, 'Person ' || g, timestamp '{YEAR}-01-01' + CASE WHEN random() < 0.85 THEN interval '0' "
            f"ELSE interval '1 year' END + random() * interval '365 days', 1 + floor(random() * {departments})::int, "
            f"1 + floor(random() * {jobs})::int FROM generate_series(1, {rows}) AS g")


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


@contextmanager
def seeded(rows: int, data: Path) -> Iterator[Database]:
    """A database with `rows` employees and their summary; the answers from both sides checked equal."""
    from core.reports import Reports
    from infra.db.engine import create_engine
    from infra.db.hire_summaries import SqlHireSummary
    from infra.db.report_queries import SqlReportQueries, SqlRowReportQueries

    with Database(POSTGRES) as db:
        schema(db.url)
        load_parents(db.url, data)
        # Valid by construction: the FK triggers are skipped for this one statement's session, as \\copy would.
        psql(db.name, "SET session_replication_role = replica",
             _hires_sql(rows, _lines(data / "departments.csv"), _lines(data / "jobs.csv")))
        engine = create_engine(db.url)
        SqlHireSummary(engine).rebuild()
        psql(db.name, "VACUUM ANALYZE")
        summary, counted = Reports(SqlReportQueries(engine)), Reports(SqlRowReportQueries(engine))
        db.identical = all(summary.hired_by_quarter(y) == counted.hired_by_quarter(y)
                           and summary.above_mean(y) == counted.above_mean(y) for y in (YEAR, YEAR + 1))
        db.from_rows = {}  # each report counted from the rows, in process: what every request cost before
        for name, call in (("hired-by-quarter", lambda: counted.hired_by_quarter(YEAR)),
                           ("hiring-above-average", lambda: counted.above_mean(YEAR))):
            db.from_rows[name] = statistics.median(timed(call) for _ in range(3))
        engine.dispose()
        yield db


@contextmanager
def served(url: str, tmp: Path) -> Iterator[str]:
    """The API in gunicorn, as `make run` starts it, on a free loopback port; its base URL."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "AZURE_", "API_KEY"))}
    env.update({"DATABASE_URL": url, "STORAGE_DIR": str(tmp / "storage"), "VAR_DIR": str(tmp / "var")})
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--threads", "4", "main:create_app()"], cwd=PROJECT_DIR, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def p50_ms(base: str, path: str) -> dict:
    session = requests.Session()
    for _ in range(10):  # both gunicorn workers warm
        session.get(base + path, timeout=30).raise_for_status()
    times, size = [], 0
    for _ in range(SEQUENTIAL):
        started = time.perf_counter()
        response = session.get(base + path, timeout=30)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
    etag = response.headers["ETag"]
    not_modified = session.get(base + path, headers={"If-None-Match": etag}, timeout=30).status_code
    times.sort()
    return {"p50_ms": 1000 * times[len(times) // 2], "p99_ms": 1000 * times[int(len(times) * 0.99)],
            "bytes": size, "status_with_etag": not_modified}


def concurrent(base: str, path: str) -> dict:
    """CLIENTS connections, each asking in a loop for SECONDS: requests/s, errors, latency."""
    deadline = time.perf_counter() + SECONDS
    times: list[float] = []
    errors: list[str] = []

    def client() -> None:
        session = requests.Session()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = session.get(base + path, timeout=30)
                if response.status_code != 200:
                    errors.append(str(response.status_code))
            except requests.RequestException as error:
                errors.append(type(error).__name__)
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    times.sort()
    return {"requests_per_second": len(times) / elapsed, "requests": len(times), "errors": len(errors),
            "p50_ms": 1000 * times[len(times) // 2], "p99_ms": 1000 * times[int(len(times) * 0.99)]}


def reports_at(rows: int, data: Path, tmp: Path) -> dict:
    with seeded(rows, data) as db, served(db.url, tmp) as base:
        figures = {"identical_to_rows": db.identical}
        for name, path in PATHS.items():
            figures[name] = {**p50_ms(base, path), "from_rows_ms": 1000 * db.from_rows[name]}
        figures["hiring-above-average, 16 connections"] = concurrent(base, PATHS["hiring-above-average"])
        return figures


def load_with_and_without(data: Path) -> dict:
    """The employee file loaded by ours on PostgreSQL, with the summary kept and without, in turns."""
    seconds: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(LOAD_RUNS):
        for kind, flags in (("with", []), ("without", ["--without-summaries"])):
            with Database(POSTGRES) as db:
                out, _, _ = run_child([sys.executable, LOAD_CHILD, db.url, str(data), *flags])
                seconds[kind].append(json.loads(out.strip().splitlines()[-1])["seconds"])
    return {kind: {"median_seconds": statistics.median(runs), "runs": runs} for kind, runs in seconds.items()}


def run(data: Path, tmp: Path) -> dict:
    return {"sizes": {rows: reports_at(rows, data, tmp) for rows in SIZES}, "load": load_with_and_without(data)}


# What issue 18 asks: (label, must, goal), each compared the way its sign says.
def targets(figures: dict) -> list[tuple[str, str, str, str, str]]:
    """Rows of the targets table: yardstick, ours, baseline, ratio, must / goal and whether it is met."""
    lines = []
    for rows, at in figures["sizes"].items():
        for name in PATHS:
            ours, before = at[name]["p50_ms"], at[name]["from_rows_ms"]
            lines.append((f"{name} p50 over HTTP at {rows:,} rows / counted from the rows", f"{ours:.1f} ms",
                          f"{before:.0f} ms", f"{ours / before:.3f}×",
                          f"≤ 50 / ≤ 10 ms  {'met' if ours <= 50 else 'NOT met'}"))
        load = at["hiring-above-average, 16 connections"]
        lines.append((f"report 2, {CLIENTS} connections, {SECONDS} s, at {rows:,} rows",
                      f"{load['requests_per_second']:.0f}/s",
                      f"{load['errors']} errors", "",
                      f"≥ 100 / ≥ 500 req/s, no error  "
                      f"{'met' if load['requests_per_second'] >= 100 and not load['errors'] else 'NOT met'}"))
        lines.append((f"answers from the summary = from the rows, at {rows:,} rows", str(at["identical_to_rows"]),
                      "", "", "identical  " + ("met" if at["identical_to_rows"] else "NOT met")))
    with_, without = (figures["load"][k]["median_seconds"] for k in ("with", "without"))
    ratio = with_ / without
    lines.append(("a load with the summary / without (medians of 3)", f"{with_:.2f} s", f"{without:.2f} s",
                  f"{ratio:.3f}×", f"≤ 1.10 / ≤ 1.03  {'met' if ratio <= 1.10 else 'NOT met'}"))
    return lines


def print_targets(figures: dict) -> None:
    print(f"\n{'reports (issue 18)':72} {'ours':>10} {'baseline':>10} {'ratio':>8}  must / goal")
    for label, ours, baseline, ratio, kept in targets(figures):
        print(f"{label:72} {ours:>10} {baseline:>10} {ratio:>8}  {kept}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hr-report-bench-") as tmp_name:
        results = run(Path(sys.argv[1]), Path(tmp_name))
    print_targets(results)
    print(json.dumps(results, default=str))
