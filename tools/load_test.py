"""A bounded load test of POST /batch on loopback: N clients × M batches of 1000 rows, every row accounted for.

    python -m tools.load_test --base-url http://127.0.0.1:8000 [--clients 8] [--batches 50]

Needs departments 1..12 and jobs 1..183 loaded (POST /upload-files). Each client sends its own id range,
2% of the rows break a rule on purpose. Prints one JSON line: rows/s, latency p50/p99, 5xx count, and
whether inserted + already_exists + errors equals what was sent."""
from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import requests

ROWS_PER_BATCH = 1000
ID_BASE = 50_000_000


def batch(client: int, number: int) -> list[dict]:
    first = ID_BASE + (client * 1000 + number) * ROWS_PER_BATCH
    rows = [{"id": first + i, "name": f"Load {first + i}", "datetime": "2021-06-01T12:00:00Z",
             "department_id": 1 + i % 12, "job_id": 1 + i % 183} for i in range(ROWS_PER_BATCH)]
    for row in rows[::50]:
        row["job_id"] = None  # 2% rejected: "job_id is missing"
    return rows


def run_client(base_url: str, client: int, batches: int) -> list[tuple[float, int, dict]]:
    session = requests.Session()
    results = []
    for number in range(batches):
        started = time.perf_counter()
        response = session.post(f"{base_url}/batch/hired_employees", json=batch(client, number), timeout=120)
        results.append((time.perf_counter() - started, response.status_code,
                        response.json() if response.status_code == 200 else {}))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    host = urlparse(args.base_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit("load tests run against loopback addresses only")
    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        outcomes = [r for rs in pool.map(lambda c: run_client(args.base_url, c, args.batches), range(args.clients))
                    for r in rs]
    elapsed = time.perf_counter() - started
    latencies = sorted(o[0] for o in outcomes)
    bodies = [o[2] for o in outcomes if o[1] == 200]
    sent = len(outcomes) * ROWS_PER_BATCH
    counted = sum(b["inserted"] + b["already_exists"] + b["errors"] for b in bodies)
    print(json.dumps({
        "clients": args.clients, "batches": len(outcomes), "rows_sent": sent, "seconds": round(elapsed, 2),
        "rows_per_s": round(sent / elapsed), "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
        "status_5xx": sum(1 for o in outcomes if o[1] >= 500), "status_other": sum(1 for o in outcomes if o[1] != 200),
        "inserted": sum(b["inserted"] for b in bodies), "errors": sum(b["errors"] for b in bodies),
        "every_row_accounted_for": counted == sent,
    }))


if __name__ == "__main__":
    main()
