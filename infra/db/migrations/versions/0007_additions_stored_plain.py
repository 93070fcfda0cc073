"""hire_summary_additions' arrays stored out of line as they are, not compressed (PostgreSQL).

A batch's arrays are too large to stay in the row, and they live only until the next fold: compressing them
on the way in and back on the way out cost each batch's transaction more than the rest of its summary work
(Documentation/benchmarks.md has the figures).

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ARRAYS = ("year", "department_id", "job_id", "quarter", "hired")


def _set_storage(kind: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE hire_summary_additions "
                   + ", ".join(f"ALTER COLUMN {name} SET STORAGE {kind}" for name in _ARRAYS))


def upgrade() -> None:
    _set_storage("EXTERNAL")


def downgrade() -> None:
    _set_storage("EXTENDED")
