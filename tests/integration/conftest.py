"""Fixtures of the integration tier, over the databases of tests/conftest.py."""
from __future__ import annotations

import pytest

from infra.db.engine import create_engine


@pytest.fixture
def engine(database_url):
    """The service's own engine on each database, emptied and migrated (database_url)."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()
