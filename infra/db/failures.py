"""A database that cannot be reached is the core's StoreUnavailable (503, or a retry), wherever it is met."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.errors import StoreUnavailable


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Turns a lost or refused connection into StoreUnavailable; every other error passes unchanged."""
    try:
        yield
    except DBAPIError as error:
        if not isinstance(error, IntegrityError) and (
                error.connection_invalidated or isinstance(error, sa.exc.OperationalError)):
            raise StoreUnavailable(f"the database is unavailable: {error.orig}") from error
        raise
