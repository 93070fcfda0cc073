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


class ThrottledProgress:
    """Passes progress figures on to `write` at most once every `every` seconds, the first at once; flush()
    passes on the last one held back. A load's figures come a batch at a time, and each write is a round trip
    to the task registry on the thread that validates the next batches, while a reader polls a few times a
    second at most."""

    def __init__(self, write: ProgressCallback, every: float, monotonic: Callable[[], float]) -> None:
        self._write = write
        self._every = every
        self._monotonic = monotonic
        self._due = float("-inf")
        self._held: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        now = self._monotonic()
        if now < self._due:
            self._held = progress
            return
        self._due = now + self._every
        self._held = None
        self._write(progress)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._write(held)
