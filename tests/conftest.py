"""Fixtures every tier builds on: settings, databases on real servers, the original challenge files."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import PROJECT_DIR, Settings
from infra.db.engine import create_engine
from infra.db.migrate import upgrade
from infra.db.schema import metadata
from tests.azurite import AzuriteMissing, running_azurite

CHALLENGE_DIR = PROJECT_DIR.parent / "shared" / "data" / "challenge"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(service: str, reason: str) -> None:
    """A missing server skips the test, loudly; with REQUIRE_SERVICES=1 (CI) it fails it."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is required (REQUIRE_SERVICES=1) but not reachable: {reason}", pytrace=False)
    pytest.skip(f"SKIPPED: {service} not reachable ({reason})")


@pytest.fixture(scope="session")
def challenge_dir() -> Path:
    if not (CHALLENGE_DIR / "hired_employees.csv").is_file():
        pytest.skip(f"the original challenge files are not at {CHALLENGE_DIR}")
    return CHALLENGE_DIR


_migrated: dict[str, sa.Engine] = {}  # one engine per test database, built on first use


def _fresh_server_database(admin_url: str, service: str):
    """Creates a database of its own for this test session on the server, and drops it afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"hr_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as error:
        admin.dispose()
        unavailable(service, str(error.orig).strip().splitlines()[0])
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        if url in _migrated:
            _migrated.pop(url).dispose()
        with admin.connect() as conn:
            # FORCE (PostgreSQL 13+): an engine a test built and never closed must not keep the database.
            force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    yield from _fresh_server_database(POSTGRES_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def postgres_url_e2e():
    """A database of its own for the e2e service, apart from the one the integration tests empty."""
    yield from _fresh_server_database(POSTGRES_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url():
    yield from _fresh_server_database(MARIADB_URL, "MariaDB")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'hr.sqlite3'}"


DATABASES = ["sqlite", "postgres", "mariadb"]


def emptied(url: str) -> str:
    """The database at url, migrated once per session, with every table emptied."""
    if url not in _migrated:
        _migrated[url] = create_engine(url)
        upgrade(_migrated[url])
    with _migrated[url].begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    return url


@pytest.fixture(params=DATABASES)
def database_url(request) -> str:
    """Each database the product supports, migrated once per session and emptied before each test."""
    return emptied(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, storage_dir=tmp_path / "storage", var_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def azurite():
    """The connection string of an Azurite started for this session (in memory, offline) and stopped after it."""
    try:
        with running_azurite() as connection_string:
            yield connection_string
    except AzuriteMissing as error:
        unavailable("Azurite", str(error))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL, once it has answered a ping."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable("Redis", f"{REDIS_URL}: {error}")
    finally:
        client.close()
    return REDIS_URL
