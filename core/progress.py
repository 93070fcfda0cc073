"""How far a long piece of work has come: what loads and backups report, and tasks record."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class Progress:
    table: str
    rows_done: int
    bytes_done: int
    bytes_total: int | None


ProgressCallback = Callable[[Progress], None]
