"""Report 2 of the original challenge files, as the stakeholders know it: the same on every database and
through every path, kept in one place."""
from __future__ import annotations

REPORT_2 = [
    ("Support", 216), ("Engineering", 205), ("Human Resources", 201), ("Services", 200),
    ("Business Development", 185), ("Research and Development", 148), ("Marketing", 142),
]
