"""`Create Tables.sql` for Azure SQL, rendered from the metadata rather than written by hand.

    python -m infra.db.ddl > "Documentation/Create Tables.sql"
"""
from __future__ import annotations

import sys

import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateIndex, CreateTable

from infra.db.schema import metadata

COMMAND = 'python -m infra.db.ddl > "Documentation/Create Tables.sql"'

HEADER = f"""\
-- Create Tables.sql: the schema for Azure SQL (SQL Server), in dependency order.
-- Generated from infra/db/schema.py; do not edit by hand. Regenerate with:
--     {COMMAND}
"""


def _statements(dialect: sa.Dialect) -> list[str]:
    statements = []
    for table in metadata.sorted_tables:  # parents before the tables whose foreign keys name them
        statements.append(_text(CreateTable(table), dialect))
        for index in sorted(table.indexes, key=lambda i: i.name):
            statements.append(_text(CreateIndex(index), dialect))
    return statements


def _text(ddl, dialect: sa.Dialect) -> str:
    # SQLAlchemy leaves a space after each comma; stripped so the committed file has no trailing blanks.
    return "\n".join(line.rstrip() for line in str(ddl.compile(dialect=dialect)).strip().splitlines())


def render(dialect: sa.Dialect | None = None) -> str:
    """The whole script: one statement per batch, each batch ended by GO as sqlcmd and SSMS expect."""
    body = "".join(f"\n{statement};\nGO\n" for statement in _statements(dialect or mssql.dialect()))
    return HEADER + body


if __name__ == "__main__":
    sys.stdout.write(render())
