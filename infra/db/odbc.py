"""Azure SQL through pyodbc needs two pieces that pip cannot install: unixODBC (libodbc) and Microsoft's ODBC
driver. When one is missing the engine is still built, so that the API starts and /ready names it; every
connection then fails with DependencyMissing, one line that says what to install."""
from __future__ import annotations

import re
import types
from typing import Any, NoReturn

import sqlalchemy as sa

from core.errors import DependencyMissing

INSTALL = ("install unixODBC and Microsoft's ODBC Driver 18 for SQL Server as the Dockerfile does "
           "(Debian: apt-get install unixodbc, then msodbcsql18 from Microsoft's repository)")
_DRIVER = re.compile(r"(?:^|;)\s*DRIVER\s*=\s*(?:\{([^}]*)\}|([^;]*))", re.IGNORECASE)


class _AbsentPyodbc(types.ModuleType):
    """Stands in for pyodbc when its shared library cannot load: what SQLAlchemy's dialect reads as it is
    built, and a connect() that says what is missing."""

    paramstyle = "qmark"
    version = "0"

    class Error(Exception):
        pass

    class Cursor:
        pass

    def __init__(self, missing: str) -> None:
        super().__init__("pyodbc")
        self._missing = missing

    def connect(self, *_: Any, **__: Any) -> NoReturn:
        raise DependencyMissing(self._missing)


def driver_name(url: sa.URL) -> str | None:
    """The DRIVER of the ODBC connection string in the URL, if it names one."""
    match = _DRIVER.search(str(url.query.get("odbc_connect", "")))
    return (match[1] or match[2]).strip() if match else None


def odbc_options(url: sa.URL) -> dict[str, Any]:
    """create_engine options for an mssql+pyodbc URL on this machine: a stand-in module when pyodbc cannot load."""
    try:
        import pyodbc  # noqa: F401  (imported to see whether libodbc loads)
    except ImportError as error:
        return {"module": _AbsentPyodbc(f"Azure SQL needs unixODBC, which this machine lacks ({error}): {INSTALL}")}
    return {}


def refuse_unknown_driver(engine: sa.Engine) -> None:
    """Names a DRIVER this machine does not have before pyodbc's own 'Can't open lib' (or IM002) does."""

    @sa.event.listens_for(engine, "do_connect")
    def _check(dialect, _record, _cargs, _cparams) -> None:
        wanted = driver_name(engine.url)
        installed = dialect.dbapi.drivers() if hasattr(dialect.dbapi, "drivers") else None
        if wanted and installed is not None and wanted not in installed:
            have = ", ".join(installed) or "none"
            raise DependencyMissing(f"the ODBC driver '{wanted}' is not installed (installed: {have}): {INSTALL}")
