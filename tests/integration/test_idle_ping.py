"""Pooled connections are pinged only after sitting idle: a dead one is then replaced, a busy one trusted."""
from __future__ import annotations

import sqlalchemy as sa

from infra.db import engine as engine_module
from infra.db.engine import create_engine


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def _terminate(url: str, pid: int) -> None:
    admin = sa.create_engine(url)
    with admin.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()
    admin.dispose()


def test_a_connection_the_server_dropped_while_idle_is_replaced_at_checkout(postgres_url, monkeypatch):
    monkeypatch.setattr(engine_module, "_TRUSTED_FOR_SECONDS", 0.0)  # every pooled connection counts as idle
    engine = create_engine(postgres_url)
    first = _backend_pid(engine)
    _terminate(postgres_url, first)
    assert _backend_pid(engine) != first  # pinged, found dead, replaced: the caller saw no error
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_url, monkeypatch):
    monkeypatch.setattr(engine_module, "_TRUSTED_FOR_SECONDS", 3600.0)
    engine = create_engine(postgres_url)
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(dbapi_connection))
    for _ in range(3):
        _backend_pid(engine)
    assert pings == []
    engine.dispose()
