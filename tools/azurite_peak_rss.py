"""Peak memory of a large load from Azure Blob: generate N rows, upload them to Azurite, `flask load all`.

The load runs in a child process with AZURE_STORAGE_CONNECTION_STRING set, so it streams the CSVs
from the emulator exactly as it would from Azure; its own peak RSS is read with os.wait4 (the child's
rusage, not that of the generator or of Azurite). A measurement, not a test: run it by hand, e.g.

    .venv/bin/python tools/azurite_peak_rss.py --rows 1000000
    .venv/bin/python tools/azurite_peak_rss.py --rows 1000000 --database-url postgresql+psycopg://postgres@127.0.0.1/hr_bench

The database should be empty (the default is a new SQLite file in a temporary folder).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from infra.storage.azure import AzureBlobStore  # noqa: E402
from tests.azurite import running_azurite  # noqa: E402
from tools.peak_rss import run  # noqa: E402

NAMES = ("departments.csv", "jobs.csv", "hired_employees.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hr-azurite-rss-") as tmp, running_azurite() as connection:
        env = {**os.environ, "FLASK_APP": "main", "VAR_DIR": str(Path(tmp) / "var"),
               "STORAGE_DIR": str(Path(tmp) / "unused-storage"),
               "AZURE_STORAGE_CONNECTION_STRING": connection, "AZURE_STORAGE_CONTAINER": "peak-rss",
               "DATABASE_URL": options.database_url or f"sqlite:///{Path(tmp) / 'hr.sqlite3'}"}
        generated = Path(tmp) / "generated"
        run(["generate", "--rows", str(options.rows), "--out", str(generated)], env)
        store = AzureBlobStore(connection, "peak-rss")
        uploaded = {}
        for name in NAMES:
            with (generated / name).open("rb") as source:
                uploaded[name] = store.write(name, source)
        run(["init-db"], env)
        stdout, seconds, rss = run(["load", "all"], env)

    totals = {s["table"]: s["total"] for s in json.loads(stdout)}
    print(json.dumps({
        "source": "Azurite (Azure Blob)", "database": env["DATABASE_URL"].split(":", 1)[0],
        "rows": options.rows, "blob_bytes": uploaded,
        "load": {"seconds": round(seconds, 1), "peak_rss_mb": round(rss, 1),
                 "inserted": {table: t["inserted"] for table, t in totals.items()},
                 "errors": totals["hired_employees"]["errors"]},
    }, indent=2))


if __name__ == "__main__":
    main()
