"""The rows of the three tables. NamedTuples: typed, immutable, and cheap enough for millions of rows."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Department(NamedTuple):
    id: int
    department: str


class Job(NamedTuple):
    id: int
    job: str


class Employee(NamedTuple):
    id: int
    name: str
    datetime: datetime  # naive, in UTC
    department_id: int
    job_id: int
