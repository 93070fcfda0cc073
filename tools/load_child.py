"""One load through the service's own composition root, in a process of its own, timed inside.

Run by the measurement tools (`tools/bench.py`, `tools/scale_out.py`), never by the service:

    python tools/load_child.py DATABASE_URL STORAGE_DIR [--parents-only] [--without-summaries]

It brings the schema up to date, loads the parents, then times the employee file and prints one JSON
line: seconds, its own peak RSS and the load's totals. `--parents-only` stops before the employees.
`--without-summaries` times the load as it was before the reports' summary: each batch writes its rows
only, and the summary is left behind (the database is a bench's own, dropped afterwards).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import Settings  # noqa: E402
from domain.tables import Table  # noqa: E402
from infra.process import settle_process_for_loads  # noqa: E402
from main import build_services  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("storage_dir", type=Path)
    parser.add_argument("--parents-only", action="store_true")
    parser.add_argument("--without-summaries", action="store_true")
    args = parser.parse_args()
    if args.without_summaries:
        # The service has no switch for this, on purpose: without the summary its reports would be wrong.
        # The calls a batch makes into infra.db.hire_summaries (PostgreSQL's batch, and every other path) are
        # replaced by nothing and by the bare write, so the difference measured is theirs and nothing else.
        import infra.db.load_store as load_store
        import infra.db.postgres_batch as postgres_batch

        postgres_batch.summary_of_inserted = lambda table: None
        load_store.write_counting_hires = lambda conn, write_rows, table, rows, lines=(): write_rows(
            conn, table, rows, lines)

    settings = dataclasses.replace(Settings.from_env(), database_url=args.database_url,
                                   storage_dir=args.storage_dir)
    services = build_services(settings)
    ingestion = services.ingestion
    services.upgrade_schema()
    for table in (Table.DEPARTMENTS, Table.JOBS):
        ingestion.load_blob(table, "bench-parents")
    if args.parents_only:
        return
    settle_process_for_loads()  # as a worker process does once it has started (infra.broker.celery_app)
    started = time.perf_counter()
    summary = ingestion.load_blob(Table.HIRED_EMPLOYEES, "bench")
    seconds = time.perf_counter() - started
    # VmHWM: this process's own peak since exec (ru_maxrss would also count the parent it was forked from).
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    # The peak of the process a SQLite load forks to commit its batches (core.commit_process), 0 without one:
    # a forked child's ru_maxrss counts the pages it inherited, as its RSS does.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_kb": peak, "commit_process_peak_rss_kb": children,
                      **summary.totals()}))


if __name__ == "__main__":
    main()
