"""One engine per process, built by the composition root; nothing here connects on import."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    options: dict = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "mssql":
        options["fast_executemany"] = True
    return sa.create_engine(parsed, **options)


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        # Foreign keys are off by default in SQLite; WAL lets the API read while a worker loads.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
