"""`make bench`: every load path side by side on fresh databases, against raw `psql \\copy`.

A measurement, not a test. BENCH_ROWS rows (default 1M) are generated with `flask generate`; each
path runs against a database of its own on the local servers (BENCH_POSTGRES, BENCH_MARIADB), which
is dropped afterwards. The paths of the paired targets (all but pandas', which runs once, and the worker lines)
run BENCH_ROUNDS times (default 3) in turns, and such a target's ratio is the median of its rounds' ratios. The
worker lines run tools/scale_out.py BENCH_ROUNDS times after them, each round just after a floor's run of its own
(the round's three loads share it), and their ratios too are the medians of their rounds'.
Prints a table, then one JSON line with the same figures.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from statistics import median
from typing import Iterator, NamedTuple

import sqlalchemy as sa

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
# How many times each path a target compares runs (in turns): on a shared machine one run of each leaves a
# ratio to whichever path met the slower minutes (Documentation/benchmarks.md).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
if ROUNDS < 1:
    sys.exit("BENCH_ROUNDS must be at least 1")
ORIGINAL_ROWS = int(os.environ.get("BENCH_ORIGINAL_ROWS", "20000"))
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB = os.environ.get("BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql")
PG_HOST = sa.engine.make_url(POSTGRES)

LOAD_CHILD = str(PROJECT_DIR / "tools" / "load_child.py")  # one timed load in a process of its own
FLOOR = "psql \\copy, real table, FK triggers off"  # what the server itself needs for our schema
WORKERS_FLOOR = f"{FLOOR} (workers)"  # the same, run in turn with the worker lines
MARIADB_FLOOR = "MariaDB LOAD DATA, real table, FK checks off"  # the same for MariaDB
SCALE_OUT = str(PROJECT_DIR / "tools" / "scale_out.py")  # one load through a real worker, 1 and 2 processes


def run_child(args: list[str], env: dict | None = None) -> tuple[str, float, float]:
    """stdout, wall seconds and peak RSS (MB) of one child process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=PROJECT_DIR, stdout=out, stderr=err, text=True,
                                 env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(args[:3])} failed:\n{err.read()[-3000:]}")
        return out.read(), seconds, usage.ru_maxrss / 1024


class Database:
    """A fresh database on a server, dropped on exit."""

    def __init__(self, admin_url: str) -> None:
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"hr_bench_{uuid.uuid4().hex[:10]}"
        self.url = self.admin.url.set(database=self.name).render_as_string(hide_password=False)

    def __enter__(self) -> Database:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {self.name}"))
        return self

    def __exit__(self, *_) -> None:
        force = " WITH (FORCE)" if self.admin.dialect.name == "postgresql" else ""
        with self.admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {self.name}{force}"))
        self.admin.dispose()


def psql(database: str, *commands: str) -> tuple[str, float]:
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST.host or "127.0.0.1",
            "-p", str(PG_HOST.port or 5432), "-U", PG_HOST.username or "postgres", "-d", database]
    for command in commands:
        args += ["-c", command]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return done.stdout, time.perf_counter() - started


def schema(url: str) -> None:
    from infra.db.engine import create_engine
    from infra.db.migrate import upgrade

    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()


def load_parents(url: str, data: Path) -> None:
    import csv

    from infra.db.schema import departments, jobs

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table, name in ((departments, "departments.csv"), (jobs, "jobs.csv")):
            with (data / name).open(encoding="utf-8") as f:
                conn.execute(table.insert(), [dict(zip(("id", table.c.keys()[1]), (int(r[0]), r[1])))
                                               for r in csv.reader(f)])
    engine.dispose()


def clean_rows(data: Path, limit: int | None = None) -> list[tuple]:
    """The valid employee rows, parsed by the service's own rules (what a bare baseline inserts)."""
    from core.columns import ColumnRules
    from core.csv_records import CsvRecords
    from domain.rules import RULES
    from domain.tables import Table

    valid_rows = ColumnRules(RULES[Table.HIRED_EMPLOYEES])
    rows = []
    with (data / "hired_employees.csv").open("rb") as f:
        batch = []
        for record in CsvRecords(f):
            batch.append(record.fields)
            if len(batch) == 1000:
                rows += [r for r in valid_rows(batch) if r is not None]
                batch = []
            if limit and len(rows) >= limit:
                break
        rows += [r for r in valid_rows(batch) if r is not None]
    return rows[:limit] if limit else rows


# --- the paths ------------------------------------------------------------------------------------

def raw_copy(data: Path) -> dict:
    with Database(POSTGRES) as db:
        psql(db.name, "CREATE TABLE raw (a text, b text, c text, d text, e text)")
        _, seconds = psql(db.name, f"\\copy raw FROM '{data / 'hired_employees.csv'}' CSV")
    return {"seconds": seconds}


def copy_typed_with_primary_key(data: Path) -> dict:
    """The valid rows into typed columns with a primary key and nothing else."""
    with Database(POSTGRES) as db:
        psql(db.name, "CREATE TABLE typed (id int PRIMARY KEY, name varchar(255), datetime timestamp, "
                      "department_id int, job_id int)")
        _, seconds = psql(db.name, f"\\copy typed FROM '{data / 'clean.csv'}' CSV")
    return {"seconds": seconds, "note": "valid rows only"}


def copy_into_real_table(data: Path, triggers: bool = True) -> dict:
    """The real table (PK, two FKs, datetime index), the valid rows only (\\copy cannot skip bad ones).
    Without triggers: what the server itself needs for our schema, the floor of any validated load."""
    clean = data / "clean.csv"
    with Database(POSTGRES) as db:
        schema(db.url)
        load_parents(db.url, data)
        role = [] if triggers else ["SET session_replication_role = replica"]
        _, seconds = psql(db.name, *role, f"\\copy hired_employees FROM '{clean}' CSV")
    return {"seconds": seconds, "note": "valid rows only"}


def load_data_into_real_table(data: Path, rows: int) -> dict:
    """MariaDB's floor, as FLOOR is PostgreSQL's: the `rows` valid rows into the real table in one `LOAD DATA
    LOCAL INFILE`, one transaction, the FK checks off; timed to its commit. A server that refuses a client's
    file (`local_infile` off) is reported as skipped."""
    clean = data / "clean.csv"
    with Database(MARIADB) as db:
        schema(db.url)
        load_parents(db.url, data)
        engine = sa.create_engine(db.url, connect_args={"local_infile": True})
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET foreign_key_checks = 0")
                started = time.perf_counter()
                loaded = conn.exec_driver_sql(
                    f"LOAD DATA LOCAL INFILE '{clean}' INTO TABLE hired_employees CHARACTER SET utf8mb4 FIELDS "
                    "TERMINATED BY ',' (id, name, @at, department_id, job_id) SET datetime = REPLACE(@at, 'T', ' ')"
                ).rowcount
            seconds = time.perf_counter() - started
        except sa.exc.DBAPIError as error:
            if error.orig.args[0] not in _LOCAL_FILES_REFUSED:
                raise
            return {"skipped": f"the server took no LOAD DATA LOCAL INFILE: {error.orig}"}
        finally:
            engine.dispose()
    if loaded != rows:  # a file read wrong is not a floor: LOCAL turns bad values into warnings
        sys.exit(f"MariaDB's floor loaded {loaded} rows of {rows}")
    return {"seconds": seconds, "note": "valid rows only"}


_LOCAL_FILES_REFUSED = {1148, 3948, 4166}  # ER_NOT_ALLOWED_COMMAND and its successors in MySQL and MariaDB


def ours_in_a_new_database(admin_url: str, data: Path) -> dict:
    with Database(admin_url) as db:
        return ours(db.url, data)


def ours(url: str, data: Path) -> dict:
    out, wall, _ = run_child([sys.executable, LOAD_CHILD, url, str(data)])
    result = json.loads(out.strip().splitlines()[-1])
    # Each process of a load has its own bound: the larger of the loading process and its commit process.
    peak_kb = max(result["peak_rss_kb"], result.get("commit_process_peak_rss_kb", 0))
    return {"seconds": result["seconds"], "wall_seconds": wall, "peak_rss_mb": peak_kb / 1024,
            "inserted": result["inserted"], "errors": result["errors"]}


def ours_without_superuser(data: Path) -> dict:
    """Ours as a role that owns its database but is no superuser: it may not switch the FK triggers off,
    so every row is checked by them, as `\\copy` into the real table checks it."""
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    role = f"hr_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN NOSUPERUSER"))
    try:
        with Database(POSTGRES) as db:
            with admin.connect() as conn:
                conn.execute(sa.text(f"ALTER DATABASE {db.name} OWNER TO {role}"))
            # The owner may create tables: PostgreSQL 15's public schema belongs to the database's owner.
            owner = sa.engine.make_url(db.url).set(username=role)
            return ours(owner.render_as_string(hide_password=False), data)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def pandas_to_sql(data: Path) -> dict:
    try:
        import pandas as pd
    except ImportError:
        return {"skipped": "pandas is not installed (pip install -r requirements-bench.txt)"}
    with Database(POSTGRES) as db:
        schema(db.url)
        load_parents(db.url, data)
        engine = sa.create_engine(db.url)
        started = time.perf_counter()
        frame = pd.read_csv(data / "clean.csv", header=None,
                            names=["id", "name", "datetime", "department_id", "job_id"], parse_dates=["datetime"])
        frame.to_sql("hired_employees", engine, if_exists="append", index=False)
        seconds = time.perf_counter() - started
        engine.dispose()
    return {"seconds": seconds, "note": "valid rows only, no validation"}


def original_path(data: Path) -> dict:
    """The original service: an ORM object and a SELECT per row, one commit at the end."""
    from sqlalchemy.orm import DeclarativeBase, Session

    from infra.db.schema import hired_employees

    class Base(DeclarativeBase):
        pass

    class HiredEmployee(Base):
        __table__ = hired_employees

    rows = clean_rows(data, ORIGINAL_ROWS)
    with Database(POSTGRES) as db:
        schema(db.url)
        load_parents(db.url, data)
        engine = sa.create_engine(db.url)
        started = time.perf_counter()
        with Session(engine) as session:
            for id_, name, moment, department, job in rows:
                if session.get(HiredEmployee, id_) is None:
                    session.add(HiredEmployee(id=id_, name=name, datetime=moment,
                                              department_id=department, job_id=job))
                    session.flush()
            session.commit()
        seconds = time.perf_counter() - started
        engine.dispose()
    return {"seconds": seconds, "rows": len(rows)}


def sqlite_bare(data: Path, rows: list[tuple], tmp: Path) -> dict:
    from infra.db.bulk import sqlite_executemany
    from infra.db.engine import create_engine
    from infra.db.schema import hired_employees

    with _sqlite_file(tmp) as url:
        schema(url)
        load_parents(url, data)
        engine = create_engine(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            sqlite_executemany(conn, hired_employees, rows)
        seconds = time.perf_counter() - started
        engine.dispose()
    return {"seconds": seconds, "rows": len(rows), "note": "clean rows, one transaction"}


def ours_in_a_new_sqlite_file(data: Path, tmp: Path) -> dict:
    with _sqlite_file(tmp) as url:
        return ours(url, data)


@contextmanager
def _sqlite_file(tmp: Path) -> Iterator[str]:
    """The URL of a new SQLite database file in tmp, removed afterwards (with its WAL)."""
    path = tmp / f"{uuid.uuid4().hex[:10]}.sqlite3"
    try:
        yield f"sqlite:///{path}"
    finally:
        for leftover in tmp.glob(f"{path.name}*"):
            leftover.unlink()


def reports(url: str, dbname: str) -> dict:
    """Both reports for 2021 (85% of the generated rows: a sequential scan is the right plan once the
    table has statistics) and for 2022 (15%: the datetime index), counted from the rows and read from the
    summary, each against its SQL run bare in psql. (Over HTTP, at 1M and 5M rows: tools/report_bench.py.)"""
    from infra.db.report_queries import (
        HIRES_BY_QUARTER,
        HIRES_PER_DEPARTMENT,
        SUMMARY_BY_QUARTER,
        SUMMARY_PER_DEPARTMENT,
        SqlReportQueries,
        SqlRowReportQueries,
    )

    engine = sa.create_engine(url)
    from_summary, from_rows = SqlReportQueries(engine), SqlRowReportQueries(engine)
    psql(dbname, "VACUUM ANALYZE")  # else autovacuum, woken by the load, runs beside the timings
    result = {}
    for year in (2021, 2022):
        quarters = {f"q{i}": q for i, q in enumerate([datetime(year, m, 1) for m in (1, 4, 7, 10)]
                                                         + [datetime(year + 1, 1, 1)])}
        for name, call, statement, params in (
                ("hired_by_quarter, rows", lambda y=year: from_rows.hires_by_quarter(y), HIRES_BY_QUARTER, quarters),
                ("per department, rows", lambda y=year: from_rows.hires_per_department(y), HIRES_PER_DEPARTMENT,
                 quarters),
                ("hired_by_quarter, summary", lambda y=year: from_summary.hires_by_quarter(y), SUMMARY_BY_QUARTER,
                 {"year": year}),
                ("per department, summary", lambda y=year: from_summary.hires_per_department(y),
                 SUMMARY_PER_DEPARTMENT, {"year": year})):
            sql = str(statement.params(**params).compile(engine, compile_kwargs={"literal_binds": True}))
            call()  # warm
            ours, bare = [], []
            for _ in range(5):  # taken in turns, so that neither side gets the quieter moments
                ours.append(timed(call))
                bare.append(float(psql(dbname, "\\timing on", sql)[0].rsplit("Time: ", 1)[1].split(" ms")[0]) / 1000)
            plan, _ = psql(dbname, "EXPLAIN " + sql)
            result[f"{name} {year}"] = {"seconds": min(ours), "bare_psql_seconds": min(bare),
                                        "datetime_index_used": "ix_hired_employees_datetime" in plan,
                                        "explain": plan}
    engine.dispose()
    return result


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def http_batches(url: str, data: Path) -> dict:
    """POST /batch/hired_employees with 1000-row CSV bodies to a live server on loopback, next to
    the direct use-case call."""
    import socket
    import urllib.request

    lines = (data / "hired_employees.csv").read_bytes().splitlines(keepends=True)
    bodies = [b"".join(lines[i:i + 1000]) for i in range(0, min(len(lines), 100_000), 1000)]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "STORAGE_DIR": str(data), "PORT": str(port), "HOST": "127.0.0.1"}
    env.pop("API_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "flask", "run", "--port", str(port), "--no-reload"],
                              cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        latencies = []
        half = min(50, len(bodies) // 2)
        for body in bodies[:half]:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/batch/hired_employees", data=body,
                                             headers={"Content-Type": "text/csv"})
            started = time.perf_counter()
            urllib.request.urlopen(request, timeout=60).read()
            latencies.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(10)
    from datetime import UTC
    from datetime import datetime as dt

    from core.batch_insert import BatchInsert
    from domain.tables import Table
    from infra.db.engine import create_engine
    from infra.db.load_store import SqlLoadStore

    engine = create_engine(url)
    use_case = BatchInsert(SqlLoadStore(engine, lambda: dt.now(UTC).replace(tzinfo=None)),
                           lambda: dt.now(UTC).replace(tzinfo=None), lambda: uuid.uuid4().hex)
    direct = []
    for body in bodies[half:2 * half]:
        started = time.perf_counter()
        use_case.insert_csv(Table.HIRED_EMPLOYEES, body)
        direct.append(time.perf_counter() - started)
    engine.dispose()
    latencies.sort()
    direct.sort()
    return {"http_rows_per_second": 1000 * len(latencies) / sum(latencies),
            "http_p50_ms": 1000 * latencies[len(latencies) // 2], "http_p99_ms": 1000 * latencies[-1],
            "direct_rows_per_second": 1000 * len(direct) / sum(direct),
            "direct_p50_ms": 1000 * direct[len(direct) // 2], "direct_p99_ms": 1000 * direct[-1],
            "batches": len(latencies)}


def main() -> None:
    from tools import report_bench  # the reports' figures: a module of their own, which uses this one


    results: dict = {"rows": ROWS, "rounds": ROUNDS,
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()}}
    with tempfile.TemporaryDirectory(prefix="hr-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        run_child([sys.executable, "-m", "flask", "generate", "--rows", str(ROWS), "--out", str(data)])
        clean = clean_rows(data)
        with (data / "clean.csv").open("w", encoding="utf-8") as out:
            for row in clean:
                out.write(f"{row[0]},{row[1]},{row[2].isoformat()},{row[3]},{row[4]}\n")
        paths = results["paths"] = {}
        paths["psql \\copy, untyped table"] = raw_copy(data)
        paths["psql \\copy, typed table, primary key only"] = copy_typed_with_primary_key(data)
        # The paths of the paired targets, in turns (see alternated).
        paths.update(alternated({
            FLOOR: lambda: copy_into_real_table(data, triggers=False),
            "ours, PostgreSQL": lambda: ours_in_a_new_database(POSTGRES, data),
            "psql \\copy, real table": lambda: copy_into_real_table(data),
            "ours, PostgreSQL, a role without superuser": lambda: ours_without_superuser(data),
            "ours, MariaDB (INSERT IGNORE)": lambda: ours_in_a_new_database(MARIADB, data),
            MARIADB_FLOOR: lambda rows=len(clean): load_data_into_real_table(data, rows),
            "ours, SQLite": lambda: ours_in_a_new_sqlite_file(data, tmp),
            "bare executemany, SQLite": lambda rows=clean: sqlite_bare(data, rows, tmp),
        }, ROUNDS))
        del clean  # held by the lambda above only while the rounds run
        with Database(POSTGRES) as db:  # a load of its own for the reports to read
            ours(db.url, data)
            results["reports"] = reports(db.url, db.name)
        paths["pandas.to_sql, PostgreSQL"] = pandas_to_sql(data)
        paths[f"original path (ORM + SELECT per row), {ORIGINAL_ROWS} rows"] = original_path(data)
        with Database(POSTGRES) as db:
            schema(db.url)
            load_parents(db.url, data)
            results["post_batch"] = http_batches(db.url, data)
        results["memory"] = {}
        for size in sorted({100_000, ROWS}):
            results["memory"][size] = memory_at(size, data, tmp)
        results["scale_out"], paths[WORKERS_FLOOR] = scale_out(data, ROUNDS)
        for index, run in enumerate(results["scale_out"]):
            paths[_worker_path(run, index == 0)] = {"seconds": run["seconds"], "peak_rss_mb": run["peak_rss_mb"],
                                                    "runs": run["runs"], "rounds_of": "workers"}
        results["report_targets"] = report_bench.run(data, tmp)
    report(results)


def alternated(paths: dict, rounds: int) -> dict:
    """Each path run `rounds` times, all of them in turn (A B C, A B C, …), so that a slower minute of this
    machine falls on every path alike. Each path's figures are those of its median run (_median_run); a
    target's ratio is then the median of its ratios round by round, which the two median runs' seconds need
    not divide to."""
    runs: dict[str, list[dict]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, run in paths.items():
            runs[name].append(run())
    figures = {}
    for name, taken in runs.items():
        skipped = [run for run in taken if "skipped" in run]  # a path this machine cannot run: said, not timed
        figures[name] = skipped[0] if skipped else {**_median_run(taken), "rounds_of": "paths"}
    return figures


def scale_out(data: Path, rounds: int) -> tuple[list[dict], dict]:
    """tools/scale_out.py `rounds` times, each round just after a run of the floor: each of its loads (one task, then
    chunks on one and two processes) as its median run, with every run's seconds beside them (in the rounds'
    order, as the floor's) and the largest peak RSS of any run; and the floor's runs."""
    taken, floors = [], []
    for _ in range(rounds):
        floors.append(copy_into_real_table(data, triggers=False))
        out, _, _ = run_child([sys.executable, SCALE_OUT, "--data", str(data), "--processes", "1", "2"])
        taken.append([json.loads(line) for line in out.splitlines() if line.startswith("{")])
    loads = [{**_median_run(runs), "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)} for runs in zip(*taken)]
    return loads, {**_median_run(floors), "rounds_of": "workers"}


def _median_run(runs: list[dict]) -> dict:
    """The figures of the median run by seconds (the upper middle one for an even count), with every run's
    seconds beside them."""
    return {**sorted(runs, key=itemgetter("seconds"))[len(runs) // 2],
            "runs": [round(run["seconds"], 3) for run in runs]}


def _worker_path(run: dict, one_task: bool) -> str:
    """scale_out's first run is the load as one task; the others are chunked (as many chunks as the file
    gives: one for a small file)."""
    return f"worker, {run['processes']} process{'es' if run['processes'] > 1 else ''}, " + (
        "one task" if one_task else "chunked")


def memory_at(size: int, data: Path, tmp: Path) -> float:
    part = tmp / f"part{size}"
    part.mkdir()
    for name in ("departments.csv", "jobs.csv"):
        (part / name).write_bytes((data / name).read_bytes())
    with (data / "hired_employees.csv").open("rb") as source, (part / "hired_employees.csv").open("wb") as out:
        for number, line in enumerate(source):
            if number >= size:
                break
            out.write(line)
    with Database(POSTGRES) as db:
        return round(ours(db.url, part)["peak_rss_mb"], 1)


class Target(NamedTuple):
    """A yardstick of the load pipeline (issue "one load pipeline at the database's own speed"): ours, its
    baseline measured in the same run, and the ratio it must keep and the one it aims for. Without a must it
    is shown for what it tells (where the time goes), not as a target."""
    label: str
    mine: str
    baseline: str
    must: float | None = None
    goal: float | None = None
    higher: bool = False  # a ratio that must be at least the must (how many times faster ours is)


TARGETS = [
    Target("PostgreSQL, ours / \\copy real table, FK triggers off (the floor)", "ours, PostgreSQL", FLOOR, 2.0, 1.3),
    Target("PostgreSQL, one worker process, one task / the floor", "worker, 1 process, one task", WORKERS_FLOOR,
           2.0, 1.3),
    Target("PostgreSQL, two worker processes, chunked / the floor", "worker, 2 processes, chunked", WORKERS_FLOOR,
           1.7, 1.1),
    Target("PostgreSQL without superuser / \\copy real table with triggers",
           "ours, PostgreSQL, a role without superuser", "psql \\copy, real table", 1.3, 1.1),
    Target("SQLite, ours / bare executemany", "ours, SQLite", "bare executemany, SQLite", 2.0, 1.3),
    Target("MariaDB, ours / ours on PostgreSQL", "ours, MariaDB (INSERT IGNORE)", "ours, PostgreSQL", 1.5, 1.2),
    Target("  MariaDB, ours / LOAD DATA real table, FK checks off (its floor)", "ours, MariaDB (INSERT IGNORE)",
           MARIADB_FLOOR),
    Target("  MariaDB's floor / PostgreSQL's floor", MARIADB_FLOOR, FLOOR),
    Target("pandas.to_sql / ours on PostgreSQL (higher is better)", "pandas.to_sql, PostgreSQL", "ours, PostgreSQL",
           2.5, 4.0, higher=True),
]


def ratio_of(mine: dict, baseline: dict) -> tuple[float, list[float]]:
    """mine's seconds over baseline's: the median of the ratios round by round where both ran in the same
    rounds (the same `rounds_of`: alternated's, or scale_out's), else the ratio of their median runs; and the
    rounds' ratios."""
    rounds_of = mine.get("rounds_of")
    if rounds_of and rounds_of == baseline.get("rounds_of") and len(mine["runs"]) == len(baseline["runs"]) > 1:
        rounds = [m / b for m, b in zip(mine["runs"], baseline["runs"])]
        return median(rounds), rounds
    return mine["seconds"] / baseline["seconds"], []


def targets(results: dict) -> None:
    paths = results["paths"]
    print(f"\n{'yardstick':72} {'ours':>8} {'baseline':>9} {'ratio':>7}  must / goal")
    for label, mine, baseline, must, goal, higher in TARGETS:
        if "seconds" not in paths.get(mine, {}) or "seconds" not in paths.get(baseline, {}):
            print(f"{label:72} not measured")
            continue
        ratio, rounds = ratio_of(paths[mine], paths[baseline])
        if must is None:
            kept = "(no target: where the time goes)"
        elif higher:
            kept = f"≥ {must} / ≥ {goal}  {'met' if ratio >= must else 'NOT met'}"
        else:
            kept = f"≤ {must} / ≤ {goal}  {'met' if ratio <= must else 'NOT met'}"
        if rounds:
            each = f"  (rounds: {', '.join(f'{r:.2f}' for r in rounds)})"
        else:  # no rounds to pair: the runs' seconds
            each = f"  (runs: {', '.join(f'{r:.2f}s' for r in paths[mine]['runs'])})" if "runs" in paths[mine] else ""
        print(f"{label:72} {paths[mine]['seconds']:7.2f}s {paths[baseline]['seconds']:8.2f}s {ratio:6.2f}×  "
              f"{kept}{each}")


def report(results: dict) -> None:
    paths = results["paths"]
    base = paths["psql \\copy, untyped table"]["seconds"]
    print(f"\n{'path':58} {'rows/s':>10} {'× raw COPY':>11} {'peak RSS':>9}")
    for name, figures in paths.items():
        if "skipped" in figures:
            print(f"{name:58} skipped: {figures['skipped']}")
            continue
        rows = figures.get("rows", results["rows"])
        figures["rows_per_second"] = round(rows / figures["seconds"])
        figures["ratio_to_raw_copy"] = round(figures["seconds"] / base * (results["rows"] / rows), 2)
        rss = f"{figures['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in figures else ""
        print(f"{name:58} {figures['rows_per_second']:>10,} {figures['ratio_to_raw_copy']:>10}× {rss:>9}")
    targets(results)
    from tools import report_bench

    report_bench.print_targets(results["report_targets"])
    for name, figures in results["reports"].items():
        print(f"report {name}: {figures['seconds'] * 1000:.0f} ms "
              f"(bare psql {figures['bare_psql_seconds'] * 1000:.0f} ms, "
              f"×{figures['seconds'] / figures['bare_psql_seconds']:.2f}), datetime index used: "
              f"{figures['datetime_index_used']}")
        print("  EXPLAIN: " + figures["explain"].strip().replace("\n", "\n           "))
    batch = results["post_batch"]
    print(f"POST /batch over HTTP: {batch['http_rows_per_second']:,.0f} rows/s, p50 {batch['http_p50_ms']:.1f} ms, "
          f"p99 {batch['http_p99_ms']:.1f} ms; direct call: {batch['direct_rows_per_second']:,.0f} rows/s, "
          f"p50 {batch['direct_p50_ms']:.1f} ms, p99 {batch['direct_p99_ms']:.1f} ms ({batch['batches']} batches each)")
    print("peak RSS of a PostgreSQL load: " + ", ".join(f"{n:,} rows {mb} MB" for n, mb in results["memory"].items()))
    print("scale-out, one load through a Celery worker on PostgreSQL (Redis broker and results):")
    for run in results["scale_out"]:
        shape = "one task" if run["chunks"] == 1 else f"{run['chunks']} chunks"
        busy = f"cores busy {run['cores_busy']} of {os.cpu_count()}, " if run.get("cores_busy") else ""
        print(f"  {run['processes']} worker process(es), {shape:9}: {run['seconds']:6.2f} s, "
              f"{run['rows_per_second']:>8,} rows/s, ×{run['speed_up']:.2f} the one task, {busy}"
              f"peak RSS of a pool process {run['peak_rss_mb']} MB; /task-status of the finished load "
              f"{run['status_bytes']:,} bytes in {run['status_ms']} ms")
    for figures in results["reports"].values():
        figures.pop("explain")
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
