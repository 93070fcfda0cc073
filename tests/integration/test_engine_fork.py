"""A Celery worker's main process uses the task registry (its lease sweeper), then forks pool processes:
a pooled connection must never serve two processes."""
from __future__ import annotations

import os

import sqlalchemy as sa

from infra.db.engine import create_engine


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def test_a_forked_child_opens_its_own_connection_and_the_parents_keeps_working(postgres_url):
    engine = create_engine(postgres_url)
    parent = _backend_pid(engine)  # now pooled
    child = os.fork()
    if child == 0:  # the child: exit 0 only if it was given a server session of its own
        try:
            os._exit(0 if _backend_pid(engine) != parent else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child reused the parent's connection"
    assert _backend_pid(engine) == parent  # the parent's pooled session was left intact
    engine.dispose()
