"""Measure a large load: `flask generate` N rows, then `flask load all`, each in a child process.

Prints each step's peak resident memory (the child's own ru_maxrss, read with os.wait4) and the
load's speed. A measurement, not a test: run it by hand, e.g.

    .venv/bin/python tools/peak_rss.py --rows 1000000
    .venv/bin/python tools/peak_rss.py --rows 1000000 --database-url postgresql+psycopg://postgres@127.0.0.1/hr_bench

The database should be empty (the default is a new SQLite file in a temporary folder).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Runs `flask <args>`; returns its stdout, its wall time in seconds and its peak RSS in MB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # Files rather than pipes: a large summary cannot fill a pipe and stall the child.
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=PROJECT_DIR, env=env,
                                 stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not every child's maximum
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"flask {' '.join(args)} failed ({child.returncode}):\n{err.read()}")
        return out.read(), seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hr-peak-rss-") as tmp:
        storage = Path(tmp) / "storage"
        env = {**os.environ, "FLASK_APP": "main", "STORAGE_DIR": str(storage), "VAR_DIR": str(Path(tmp) / "var"),
               "DATABASE_URL": options.database_url or f"sqlite:///{Path(tmp) / 'hr.sqlite3'}"}
        _, gen_seconds, gen_rss = run(["generate", "--rows", str(options.rows), "--out", str(storage)], env)
        run(["init-db"], env)
        stdout, seconds, rss = run(["load", "all"], env)

    totals = {s["table"]: s["total"] for s in json.loads(stdout)}
    employees = totals["hired_employees"]
    print(json.dumps({
        "database": env["DATABASE_URL"].split(":", 1)[0],
        "rows": options.rows,
        "generate": {"seconds": round(gen_seconds, 1), "peak_rss_mb": round(gen_rss, 1)},
        "load": {"seconds": round(seconds, 1), "peak_rss_mb": round(rss, 1),
                 "rows_per_second": round(sum(t["processed"] for t in totals.values()) / seconds),
                 "inserted": employees["inserted"], "errors": employees["errors"]},
    }, indent=2))


if __name__ == "__main__":
    main()
