"""The three tables of the migration and the order they load in."""
from __future__ import annotations

from enum import Enum

from domain.errors import UnknownTable


class Table(str, Enum):
    DEPARTMENTS = "departments"
    JOBS = "jobs"
    HIRED_EMPLOYEES = "hired_employees"

    @classmethod
    def from_name(cls, name: str) -> Table:
        """The allow-list: the three names, and `hired-employees` as the original paths spell it."""
        try:
            return cls(name.replace("-", "_"))
        except ValueError:
            raise UnknownTable(name) from None

    @property
    def file_name(self) -> str:
        return f"{self.value}.csv"


# Parents before children, so foreign keys always find their rows.
LOAD_ORDER: tuple[Table, ...] = (Table.DEPARTMENTS, Table.JOBS, Table.HIRED_EMPLOYEES)
