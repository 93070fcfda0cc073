"""What a second worker process gives today: one employee file loaded as N slices side by side.

A measurement, not a test, and an upper bound for scale-out: each slice is a load of its own (what
`POST /upload-hired-employees?start=&limit=` queues), so an id repeated across slices is not told apart
from one already in the table, which a real split of one load must do (Documentation/benchmarks.md).
For each N, a fresh PostgreSQL database gets the parents, then N processes each load 1/N of the rows
through `main.build_services`, started together; the time is from the start to the last one's end.

    .venv/bin/python tools/parallel_slices.py --data /tmp/big --processes 1 2
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from tools.bench import LOAD_CHILD, POSTGRES, Database  # noqa: E402


def data_rows(data: Path) -> int:
    with (data / "hired_employees.csv").open("rb") as f:
        return sum(1 for line in f if line.strip())


def run(data: Path, processes: int, rows: int) -> dict:
    with Database(POSTGRES) as db:
        subprocess.run([sys.executable, LOAD_CHILD, db.url, str(data), "--parents-only"], cwd=PROJECT_DIR,
                       check=True, capture_output=True)
        share = -(-rows // processes)
        started = time.perf_counter()
        children = [subprocess.Popen([sys.executable, LOAD_CHILD, db.url, str(data), "--employees-only",
                                      "--start", str(n * share), "--limit", str(share)],
                                     cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                    for n in range(processes)]
        outputs = [child.communicate()[0] for child in children]
        seconds = time.perf_counter() - started
        if any(child.returncode for child in children):
            sys.exit(f"a slice failed with {processes} processes")
        totals = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    processed = sum(t["processed"] for t in totals)
    return {"processes": processes, "seconds": round(seconds, 2), "rows_per_second": round(processed / seconds),
            "processed": processed, "inserted": sum(t["inserted"] for t in totals),
            "already_exists": sum(t["already_exists"] for t in totals), "errors": sum(t["errors"] for t in totals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder made by `flask generate`")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rows = data_rows(args.data)
    results = [run(args.data, n, rows) for n in args.processes]
    for result in results:
        print(json.dumps(result))
    base = results[0]["seconds"]
    for result in results[1:]:
        speed = base / result["seconds"]
        print(f"{result['processes']} processes: {speed:.2f}× the speed of {results[0]['processes']}")


if __name__ == "__main__":
    main()
