"""One engine per process, built by the composition root; nothing here connects on import."""
from __future__ import annotations

import os
import sqlite3
import time
import weakref
from datetime import datetime
from operator import methodcaller
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from infra.db.odbc import odbc_options, refuse_unknown_driver

_TRUSTED_FOR_SECONDS = 5.0
_SQLITE_CACHE_KIB = 24 * 1024
_SQLITE_WAL_PAGES = 10_000  # of 4 KiB
_SQLITE_DATETIME = methodcaller("isoformat", " ", "microseconds")


def create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        options: dict = {}
        if parsed.get_backend_name() == "mssql":
            options.update(fast_executemany=True, **odbc_options(parsed))
        engine = sa.create_engine(parsed, **options)
        if parsed.get_backend_name() == "mssql":
            refuse_unknown_driver(engine)
        _ping_when_idle(engine)
    _not_across_fork(engine)
    return engine


def _not_across_fork(engine: sa.Engine) -> None:
    """A Celery worker's main process uses the task registry (its lease sweeper) and then forks pool
    processes, and a SQLite load forks a process that commits its batches (core.commit_process): a
    connection opened before the fork must never be used by two processes.
    - Before any fork, a SQLite engine closes the connections resting in its pool. SQLite keeps the locks of
      a file per process, in memory: a child that inherited an open connection's would believe it holds
      locks that only its parent holds.
    - After a fork, the child starts each engine with a pool of its own, as SQLAlchemy's pooling guide
      shows. The pool it inherited is kept, never closed: collected, its connections would be closed from
      the child (psycopg ends the server session it shares with the parent).
    - A pooled connection from another process is dropped at checkout besides."""
    owner = weakref.ref(engine)

    def _sqlite_connections_closed() -> None:
        if (forking := owner()) is not None and is_sqlite_file(forking):
            forking.pool.dispose()

    def _fresh_pool_in_child() -> None:
        if (forked := owner()) is not None:
            _INHERITED_POOLS.append(forked.pool)
            forked.dispose(close=False)

    os.register_at_fork(before=_sqlite_connections_closed, after_in_child=_fresh_pool_in_child)

    @sa.event.listens_for(engine, "connect")
    def _owner(_dbapi_connection, record) -> None:
        record.info["pid"] = os.getpid()

    @sa.event.listens_for(engine, "checkout")
    def _same_process(_dbapi_connection, record, proxy) -> None:
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa.exc.DisconnectionError("a connection opened by another process is not reused here")


def is_sqlite_file(engine: sa.Engine) -> bool:
    """A SQLite database in a file (one in memory lives and dies with its connection, in one process)."""
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


# In a forked child: the pools its parent's engines had at the fork, kept so that none of their connections
# is closed (and so ended) from here.
_INHERITED_POOLS: list[sa.pool.Pool] = []


def _ping_when_idle(engine: sa.Engine) -> None:
    """pool_pre_ping, but only for a connection that sat in the pool a while. A load checks out a
    connection per batch; a ping each time was a round trip per batch on a connection used a moment
    before. A server lost within that moment fails the next statement instead, which is answered as
    an unavailable store (503, or the task retried) like a loss mid-statement."""

    @sa.event.listens_for(engine, "connect")
    @sa.event.listens_for(engine, "checkin")
    def _fresh(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) < _TRUSTED_FOR_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # As pool_pre_ping does: a dead connection means a restarted or lost server, so every
            # pooled one is dropped and the checkout is tried again on a new connection.
            raise sa.exc.InvalidatePoolError(f"a pooled connection did not answer: {error}") from error


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    # SQLAlchemy's storage form of a DateTime on SQLite, `YYYY-MM-DD HH:MM:SS.ffffff`, written by the sqlite3
    # module itself for a datetime that reaches it unconverted (the bulk path's rows): one C call a value.
    # SQLAlchemy converts its own parameters before they reach the driver, so nothing else changes.
    sqlite3.register_adapter(datetime, _SQLITE_DATETIME)
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
        # A load inserts into the datetime index at random places: with SQLite's default 2 MiB page
        # cache most of those pages were read again and again, and a checkpoint every 4 MiB of WAL wrote
        # them back as often (the figures are in Documentation/benchmarks.md). The cache is per connection
        # and fills only as pages are read: a load's writer holds up to 24 MiB, a connection that served
        # a report over the whole table as much; the WAL file stays under about 40 MiB.
        cursor.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={_SQLITE_WAL_PAGES}")
        cursor.close()

    return engine
